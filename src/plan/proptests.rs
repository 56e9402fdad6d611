//! Property tests: the fast model prices every plan as the plain R28/R29 catalog walk
//! does, and `optimal` finds the plan exhaustive search finds (R31), on random worlds.

use proptest::prelude::*;
use rand::Rng;

use super::candidates::{candidates, classes};
use super::evaluate::{reference_bytes, reference_plan_bytes, Model};
use super::strategies::{exhaustive, greedy, optimal, top_n, Budget, Proof};
use super::{Candidate, Target};
use crate::catalog::ReleaseKind;
use crate::resolver::testkit;

/// A random world, a random target among its live Full releases, candidates with
/// random sizes (some unknown, some larger than the Full payload). `None` when the
/// world has no Full release or a walk cycles.
fn problem(seed: u64, n_devices: usize) -> Option<(testkit::World, Target, Vec<Candidate>)> {
    let world = testkit::random_world(seed, n_devices);
    let mut rng = testkit::rng(seed ^ 0x5eed);
    let fulls: Vec<_> = world
        .catalog
        .releases()
        .filter(|(_, r)| !r.deleted)
        .filter_map(|(id, r)| match r.kind {
            ReleaseKind::Full { version, .. } => Some((id, r.software_type, version)),
            _ => None,
        })
        .collect();
    // Mostly a target that is active somewhere, or no device would walk to it.
    let active: Vec<_> = fulls
        .iter()
        .copied()
        .filter(|&(id, _, _)| world.catalog.activations().any(|(r, _, _)| r == id))
        .collect();
    let pool = if active.is_empty() || rng.gen_bool(0.1) {
        &fulls
    } else {
        &active
    };
    if pool.is_empty() {
        return None;
    }
    let (full, software_type, version) = pool[rng.gen_range(0..pool.len())];
    let target = Target {
        software_type,
        version,
        full,
    };
    let cl = classes(&world.catalog, &world.fleet).ok()?;
    let mut cands = candidates(&world.catalog, &target, &cl, None);
    for c in &mut cands {
        for h in &mut c.hardware {
            h.delta_bytes = match rng.gen_range(0..10) {
                0 => None,
                1 => Some(h.full_bytes + rng.gen_range(0..100)),
                _ => Some(rng.gen_range(0..=h.full_bytes)),
            };
        }
    }
    Some((world, target, cands))
}

/// The random problems are not degenerate: most have candidates and a model,
/// so the properties below are exercised, not skipped.
#[test]
fn random_problems_have_candidates() {
    let mut useful = 0;
    for seed in 0..100u64 {
        if let Some((world, target, cands)) = problem(seed, 80) {
            let cl = classes(&world.catalog, &world.fleet).unwrap();
            let built = Model::build(&world.catalog, &target, &cands, &cl.classes, &cl.walks);
            if !cands.is_empty() && built.is_ok_and(|m| !m.groups.is_empty()) {
                useful += 1;
            }
        }
    }
    assert!(
        useful >= 40,
        "only {useful} of 100 random problems have candidates"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// R29: the model's saving and per-delta devices equal the plain walk of the plan's
    /// catalog (R28) for random plans.
    #[test]
    fn r29_model_prices_plans_like_the_reference(seed in 0u64..u64::MAX, n in 0usize..120) {
        let Some((world, target, cands)) = problem(seed, n) else { return Ok(()) };
        let cl = classes(&world.catalog, &world.fleet).unwrap();
        let Ok(model) = Model::build(&world.catalog, &target, &cands, &cl.classes, &cl.walks)
        else { return Ok(()) };
        let base = reference_bytes(&world.catalog, &cl.classes).unwrap().bytes;
        prop_assert_eq!(model.baseline, base);
        let mut rng = testkit::rng(seed);
        for _ in 0..8 {
            let plan: Vec<usize> = (0..cands.len()).filter(|_| rng.gen_bool(0.4)).collect();
            let mut mask = vec![false; cands.len()];
            for &c in &plan { mask[c] = true; }
            let (bytes, devices) =
                reference_plan_bytes(&world.catalog, &target, &cands, &plan, &cl.classes).unwrap();
            prop_assert_eq!(base as i64 - bytes as i64, model.saving(&mask));
            let fast = model.devices(&mask);
            let fast: Vec<u64> = plan.iter().map(|&c| fast[c]).collect();
            prop_assert_eq!(devices, fast);
        }
    }

    /// R31: branch and bound finds exactly the plan exhaustive search over the plain
    /// R29 pricing finds (saving and every tie-break), and `top_n`/`greedy` never beat
    /// it nor break the budget.
    #[test]
    fn r31_optimal_equals_exhaustive_search(
        seed in 0u64..u64::MAX,
        n in 1usize..150,
        k in 0usize..6,
        byte_budget in proptest::option::of(0u64..20_000_000),
    ) {
        let Some((world, target, cands)) = problem(seed, n) else { return Ok(()) };
        prop_assume!(cands.len() <= 12);
        let cl = classes(&world.catalog, &world.fleet).unwrap();
        let Ok(model) = Model::build(&world.catalog, &target, &cands, &cl.classes, &cl.walks)
        else { return Ok(()) };
        let stored: Vec<u64> = cands.iter().map(Candidate::stored_bytes).collect();
        let budget = Budget { max_deltas: k, max_stored: byte_budget };
        let devices: Vec<u64> = cands.iter().map(|c| c.devices).collect();
        let heuristics = [top_n(&model, &devices, &stored, budget), greedy(&model, &stored, budget)];
        let start: Vec<&_> = if seed % 2 == 0 { heuristics.iter().collect() } else { Vec::new() };
        let (fast, proof) = optimal(&model, &stored, budget, None, &start);
        prop_assert_eq!(proof, Proof::Optimal);
        let base = model.baseline as i64;
        let plain = exhaustive(cands.len(), &stored, budget, |plan| {
            let (bytes, _) =
                reference_plan_bytes(&world.catalog, &target, &cands, plan, &cl.classes).unwrap();
            base - bytes as i64
        });
        prop_assert_eq!(&fast, &plain);
        for p in heuristics {
            prop_assert!(p.saving <= fast.saving);
            prop_assert!(p.members.len() <= k);
            prop_assert!(byte_budget.is_none_or(|b| p.stored <= b));
            prop_assert!(p.saving >= 0);
        }
    }
}

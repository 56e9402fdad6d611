//! R31: the three strategies, over the fast model of [`super::evaluate`].
//!
//! Candidates are numbered in ascending order of their From version, so "higher F" is
//! "higher index", and a plan's sorted From versions are its sorted indices.
//!
//! `optimal` is a depth-first branch and bound. At a node some candidates are in the
//! plan (P), some are out, the rest undecided. Its bound is admissible: the smallest of
//! (1) per group, the best saving any completion can give it (the first P option, or an
//! earlier undecided one, or nothing if no P option); (2) S(P) plus the k largest gains
//! G(r) of undecided candidates, where G(r) sums, over groups, how much r's option
//! (before the group's first P option) exceeds the group's saving under P, and k the
//! deltas left in the budget; (3) with a byte budget, S(P) plus the fractional knapsack
//! of the gains. (2) and (3) hold because adding a set Q to P raises a group's saving
//! by at most the largest gain among Q's options there, which is at most their sum.

use std::cmp::Ordering;
use std::time::Instant;

use super::evaluate::Model;

/// The budget of a plan (R31).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// At most this many deltas (`--budget K`).
    pub max_deltas: usize,
    /// At most this many stored bytes (`--max-stored-bytes B`).
    pub max_stored: Option<u64>,
}

impl Budget {
    fn bytes_ok(&self, stored: u64) -> bool {
        self.max_stored.is_none_or(|b| stored <= b)
    }
}

/// A plan and what it is worth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Candidate indices, ascending (= From versions in ascending precedence).
    pub members: Vec<usize>,
    /// Fleet bytes without it minus with it (R29).
    pub saving: i64,
    /// Its payload sizes summed.
    pub stored: u64,
}

impl Plan {
    fn empty() -> Plan {
        Plan {
            members: Vec::new(),
            saving: 0,
            stored: 0,
        }
    }

    /// The plan as a membership mask over `n` candidates.
    pub fn mask(&self, n: usize) -> Vec<bool> {
        let mut m = vec![false; n];
        for &c in &self.members {
            m[c] = true;
        }
        m
    }
}

/// R31's order of plans for `optimal`: more saving, then fewer stored bytes, then fewer
/// deltas, then the sorted From versions that come first. `Less` means `a` is better.
pub fn compare(a: &Plan, b: &Plan) -> Ordering {
    b.saving
        .cmp(&a.saving)
        .then(a.stored.cmp(&b.stored))
        .then(a.members.len().cmp(&b.members.len()))
        .then_with(|| a.members.cmp(&b.members))
}

fn with(model: &Model, stored: &[u64], members: &[usize]) -> Plan {
    let mut members = members.to_vec();
    members.sort_unstable();
    let mask = {
        let mut m = vec![false; model.n_candidates];
        for &c in &members {
            m[c] = true;
        }
        m
    };
    Plan {
        saving: model.saving(&mask),
        stored: members.iter().map(|&c| stored[c]).sum(),
        members,
    }
}

/// `top_n`: candidates by present devices reporting F (ties: higher F first), each
/// taken unless it breaks the byte budget or does not increase the saving, until K.
pub fn top_n(model: &Model, devices: &[u64], stored: &[u64], budget: Budget) -> Plan {
    let mut order: Vec<usize> = (0..model.n_candidates).collect();
    order.sort_by(|&a, &b| devices[b].cmp(&devices[a]).then(b.cmp(&a)));
    let mut plan = Plan::empty();
    for c in order {
        if plan.members.len() >= budget.max_deltas {
            break;
        }
        if !budget.bytes_ok(plan.stored + stored[c]) {
            continue;
        }
        let mut members = plan.members.clone();
        members.push(c);
        let next = with(model, stored, &members);
        if next.saving > plan.saving {
            plan = next;
        }
    }
    plan
}

/// `greedy`: repeatedly the candidate with the highest positive marginal saving (ties:
/// higher F) that fits the budget, until K or none.
pub fn greedy(model: &Model, stored: &[u64], budget: Budget) -> Plan {
    let mut plan = Plan::empty();
    while plan.members.len() < budget.max_deltas {
        let mut best: Option<Plan> = None;
        for c in 0..model.n_candidates {
            if plan.members.contains(&c) || !budget.bytes_ok(plan.stored + stored[c]) {
                continue;
            }
            let mut members = plan.members.clone();
            members.push(c);
            let next = with(model, stored, &members);
            // Ascending c: `>=` lets a higher F win a tie.
            if next.saving > plan.saving && best.as_ref().is_none_or(|b| next.saving >= b.saving) {
                best = Some(next);
            }
        }
        match best {
            Some(b) => plan = b,
            None => break,
        }
    }
    plan
}

/// How `optimal` ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    /// The search finished: the plan is optimal.
    Optimal,
    /// The time limit stopped it: no plan saves more than the one found plus `gap`.
    Stopped {
        /// A proven bound on how much more the optimal plan may save.
        gap: u64,
    },
}

const IN: u8 = 1;
const OUT: u8 = 2;
const OPEN: u8 = 0;

struct Node {
    depth: usize,
    members: Vec<usize>,
    stored: u64,
    bound: i64,
}

/// `optimal` (R31) by branch and bound; `deadline` stops it with the best plan found.
/// `incumbents` are plans within the budget known already (e.g. `greedy`'s): the search
/// starts from the best of them, which only prunes more.
pub fn optimal(
    model: &Model,
    stored: &[u64],
    budget: Budget,
    deadline: Option<Instant>,
    incumbents: &[&Plan],
) -> (Plan, Proof) {
    let n = model.n_candidates;
    // Candidates no class would take only add bytes: never in an optimal plan.
    let mut order: Vec<usize> = (0..n)
        .filter(|&c| model.used(c) && budget.bytes_ok(stored[c]))
        .collect();
    let alone: Vec<i64> = (0..n)
        .map(|c| {
            if order.contains(&c) {
                with(model, stored, &[c]).saving
            } else {
                0
            }
        })
        .collect();
    order.sort_by(|&a, &b| alone[b].cmp(&alone[a]).then(b.cmp(&a)));
    let mut best = Plan::empty();
    for &p in incumbents {
        if compare(p, &best) == Ordering::Less {
            best = p.clone();
        }
    }
    let mut stack = vec![Node {
        depth: 0,
        members: Vec::new(),
        stored: 0,
        bound: i64::MAX,
    }];
    let mut state = vec![OUT; n];
    let mut gains = vec![0i64; n];
    let mut visited: u64 = 0;
    while let Some(node) = stack.pop() {
        visited += 1;
        // Checked after a node is expanded (below), so that open nodes carry real bounds;
        // here only the count.
        if node.bound < best.saving {
            continue;
        }
        // The node's state: members in, decided candidates out, the rest open.
        state.iter_mut().for_each(|s| *s = OUT);
        let k_left = budget.max_deltas.saturating_sub(node.members.len());
        let b_left = budget.max_stored.map(|b| b - node.stored);
        if k_left > 0 {
            for &c in &order[node.depth..] {
                if b_left.is_none_or(|b| stored[c] <= b) {
                    state[c] = OPEN;
                }
            }
        }
        for &c in &node.members {
            state[c] = IN;
        }
        let (saving, bound) = bound(model, &state, &mut gains, stored, k_left, b_left);
        let here = Plan {
            members: {
                let mut m = node.members.clone();
                m.sort_unstable();
                m
            },
            saving,
            stored: node.stored,
        };
        if compare(&here, &best) == Ordering::Less {
            best = here;
        }
        if node.depth == order.len() || k_left == 0 {
            continue;
        }
        // Prune when no completion can beat the best: a lower bound, or an equal one
        // where every completion (more bytes or more deltas) loses the tie.
        if bound < best.saving
            || (bound == best.saving
                && !(node.stored < best.stored
                    || (node.stored == best.stored && node.members.len() < best.members.len())))
        {
            continue;
        }
        let c = order[node.depth];
        let stop = visited % 256 == 1 && deadline.is_some_and(|d| Instant::now() >= d);
        stack.push(Node {
            depth: node.depth + 1,
            members: node.members.clone(),
            stored: node.stored,
            bound,
        });
        if state[c] == OPEN {
            let mut members = node.members;
            members.push(c);
            stack.push(Node {
                depth: node.depth + 1,
                members,
                stored: node.stored + stored[c],
                bound,
            });
        }
        if stop {
            // Every plan not yet seen is a completion of an open node.
            let open = stack.iter().map(|s| s.bound).max().unwrap_or(best.saving);
            let gap = open.saturating_sub(best.saving).max(0) as u64;
            return (best, Proof::Stopped { gap });
        }
    }
    (best, Proof::Optimal)
}

/// The saving of the node's plan and an admissible bound on any completion.
fn bound(
    model: &Model,
    state: &[u8],
    gains: &mut [i64],
    stored: &[u64],
    k_left: usize,
    b_left: Option<u64>,
) -> (i64, i64) {
    gains.iter_mut().for_each(|g| *g = 0);
    let (mut saving, mut per_group) = (0i64, 0i64);
    for g in &model.groups {
        let mut value = 0;
        let mut stop = g.options.len();
        let mut best_open = i64::MIN;
        for (i, &(c, s)) in g.options.iter().enumerate() {
            match state[c as usize] {
                IN => {
                    value = s;
                    stop = i;
                    break;
                }
                OPEN => best_open = best_open.max(s),
                _ => {}
            }
        }
        saving += value;
        per_group += value.max(best_open);
        for &(c, s) in &g.options[..stop] {
            if state[c as usize] == OPEN && s > value {
                gains[c as usize] += s - value;
            }
        }
    }
    let mut open: Vec<usize> = (0..gains.len())
        .filter(|&c| state[c] == OPEN && gains[c] > 0)
        .collect();
    open.sort_by(|&a, &b| gains[b].cmp(&gains[a]));
    let top_k: i64 = open.iter().take(k_left).map(|&c| gains[c]).sum();
    let mut ub = per_group.min(saving + top_k);
    if let Some(b) = b_left {
        // Fractional knapsack, rounded up: free items whole, then by density.
        open.sort_by(|&x, &y| {
            // gains[x] / stored[x] > gains[y] / stored[y], without division.
            (i128::from(gains[y]) * i128::from(stored[x]))
                .cmp(&(i128::from(gains[x]) * i128::from(stored[y])))
        });
        let mut room = i128::from(b);
        let mut total: i128 = 0;
        for &c in &open {
            let (g, w) = (i128::from(gains[c]), i128::from(stored[c]));
            if w <= room {
                total += g;
                room -= w;
            } else {
                total += (g * room + w - 1) / w;
                break;
            }
        }
        ub = ub.min(saving + total.min(i128::from(i64::MAX)) as i64);
    }
    (saving, ub)
}

/// Every plan within the budget, priced by `price`, the best by [`compare`]: the
/// plain definition of `optimal`, for tests.
pub fn exhaustive(
    n: usize,
    stored: &[u64],
    budget: Budget,
    mut price: impl FnMut(&[usize]) -> i64,
) -> Plan {
    let mut best = Plan::empty();
    for mask in 0u64..(1 << n) {
        let members: Vec<usize> = (0..n).filter(|&c| mask >> c & 1 == 1).collect();
        let total: u64 = members.iter().map(|&c| stored[c]).sum();
        if members.len() > budget.max_deltas || !budget.bytes_ok(total) {
            continue;
        }
        let plan = Plan {
            saving: price(&members),
            stored: total,
            members,
        };
        if compare(&plan, &best) == Ordering::Less {
            best = plan;
        }
    }
    best
}

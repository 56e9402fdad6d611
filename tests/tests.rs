//! Black-box behaviour tests of the `otasim` binary.
//!
//! Every expected output here was computed by hand from `../shared/SPEC.md` and
//! `docs/semantics.md`, never by running the implementation: these tests are an
//! independent check of the resolver. Test names carry the SPEC rule they guard
//! (`r13_…`), so `cargo test --test tests r13` runs the tests of one rule.

mod cli;

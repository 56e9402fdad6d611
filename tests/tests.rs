//! Black-box behaviour tests of the `otasim` binary.
//!
//! Every expected output here was computed by hand from `docs/spec.md` (the behaviour
//! reference) and `docs/semantics.md`, never by running the implementation: these tests are an
//! independent check of the resolver. Test names carry the spec rule they guard
//! (`r13_…`), so `cargo test --test tests r13` runs the tests of one rule.

mod cli;

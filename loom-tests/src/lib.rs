//! loom models of evloop's cross-thread code.
//!
//! The models are in `tests/`; they run only when the whole build has `--cfg loom`, which makes
//! the `evloop` crate compile its concurrency primitives from loom instead of std (see
//! `runtime/src/shim.rs`):
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release
//! ```
//!
//! With no `LOOM_MAX_PREEMPTIONS`, every two-thread model is searched exhaustively; the one
//! three-thread model sets its own bound. `mutants.sh` checks that each model can fail: it patches
//! one bug at a time (`mutants/*.patch`) into a scratch copy of the runtime and runs its model.
//! `loom-tests/README.md` lists the models, the bugs and what loom reports.
//!
//! Without `--cfg loom` this crate is empty and its tests compile to nothing.

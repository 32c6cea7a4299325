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
//! Without `--cfg loom` this crate is empty and its tests compile to nothing.

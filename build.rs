//! Does nothing. It exists so that the `[build-dependencies]` of Cargo.toml, which only unify the
//! features of crates compiled for the host (see the comment there), take effect.
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}

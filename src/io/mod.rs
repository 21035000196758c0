//! File formats shared by `golden` and `check` (issue 5).

pub mod npy;

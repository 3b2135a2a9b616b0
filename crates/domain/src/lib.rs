//! Pure types and rules of EatFit24. No IO, no async: everything here is a function of its
//! inputs, so it is tested without a database, a network or a clock.

pub mod clock;
pub mod error;
pub mod ids;
pub mod init_data;
pub mod money;
pub mod nutrition;
pub mod secret_fp;

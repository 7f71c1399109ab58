//! Request and response types shared by the Worker and the tests, with no worker types.
//!
//! [`error`] is the one table from failure to HTTP status and stable code; [`auth`] holds roles
//! and API-key hashing.

pub mod auth;
pub mod error;
pub mod media;
pub mod upload_parts;

pub use auth::{Principal, Role};
pub use error::{ApiError, ErrorBody};

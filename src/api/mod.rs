//! Request and response types shared by the Worker and the tests, with no worker types.
//!
//! [`error`] is the one table from failure to HTTP status and stable code; [`auth`] holds roles
//! and API-key hashing; [`request_id`] names each request; [`body_cap`] reads bodies under a
//! running cap; [`link_splice`] adds signed links to a view's text; [`webhook_url`] says where
//! an app's status webhooks may go.

pub mod auth;
pub mod body_cap;
pub mod error;
pub mod link_signer;
pub mod link_splice;
pub mod media;
pub mod openapi;
pub mod request_id;
pub mod secrets;
pub mod support_page;
pub mod support_session;
pub mod tier_limits;
pub mod upload_parts;
pub mod webhook_url;

pub use auth::{Principal, Role};
pub use error::{ApiError, ErrorBody};
pub use request_id::RequestId;

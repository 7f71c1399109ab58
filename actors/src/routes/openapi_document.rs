//! The OpenAPI 3.1 document served at `GET /openapi.json`: `openapi.json`, generated from the
//! core's types by `studio::api::openapi` and checked in, so the Worker carries a string rather
//! than a schema generator. The test `openapi_document` fails when the file is not what the
//! types derive; regenerate it with `UPDATE_OPENAPI=1 cargo test -p studio --test openapi_document`.

/// The document (`servers` and `x-routes` are filled in when it is served)
pub(crate) const DOCUMENT: &str = include_str!("openapi.json");

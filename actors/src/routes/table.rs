//! The one list of every route the Worker serves, as OpenAPI path templates.
//!
//! The dispatcher (`routes::handle`) lets a request through only when it matches a row here (or
//! falls under a prefix this table does not own), and `GET /openapi.json` publishes the rows as
//! `x-routes`, which the e2e test compares with the document's `paths` both ways. A route added
//! to the dispatcher but not here is unreachable (404), so the table cannot silently fall behind.

use studio::api::ApiError;
use worker::Method;

/// One route: method and OpenAPI path template; `{name}` matches one segment, a trailing
/// `{name}` of a `greedy` route matches the rest of the path
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// `/v1/renders/{id}`
    pub path: &'static str,
    /// Whether the last parameter takes the rest of the path (media keys contain slashes)
    pub greedy: bool,
}

const fn route(method: &'static str, path: &'static str) -> Route {
    Route {
        method,
        path,
        greedy: false,
    }
}

/// Every route the Worker serves
pub(crate) const ROUTES: &[Route] = &[
    route("GET", "/healthz"),
    route("GET", "/openapi.json"),
    route("GET", "/v1/whoami"),
    route("POST", "/v1/renders"),
    route("GET", "/v1/renders"),
    route("GET", "/v1/renders/{id}"),
    route("POST", "/v1/renders/{id}/cancel"),
    route("GET", "/v1/renders/{id}/events"),
    route("POST", "/v1/renders/{id}/outcomes"),
    route("GET", "/v1/memory"),
    route("PUT", "/v1/memory"),
    route("POST", "/v1/memory/context"),
    route("PUT", "/v1/memory/looks/{cast}/images"),
    route("POST", "/v1/memory/voices/{name}/samples"),
    route("POST", "/v1/memory/import"),
    route("GET", "/v1/webhooks/secret"),
    route("POST", "/v1/support/session"),
    route("GET", "/v1/support/session"),
    route("DELETE", "/v1/support/session"),
    route("GET", "/v1/support/renders"),
    route("GET", "/v1/support/renders/{id}"),
    route("GET", "/v1/support/renders/{id}/journal"),
    route("GET", "/v1/support/renders/{id}/timeline"),
    route("POST", "/v1/support/renders/{id}/actions"),
    route("GET", "/v1/support/creators/{creator}/memory"),
    route("POST", "/v1/support/creators/{creator}/memory/context"),
    route("GET", "/v1/support/providers"),
    route("GET", "/v1/support/registry"),
    route("POST", "/v1/admin/registry"),
    route("POST", "/v1/callbacks/{provider}"),
    route("POST", "/v1/callbacks/{provider}/{job}/{stage}/{attempt}"),
    Route {
        method: "GET",
        path: "/v1/media/{key}",
        greedy: true,
    },
];

/// First segments this table speaks for; paths under any other prefix are left to the
/// dispatcher's own arms. `/v1/memory` is listed above but not owned, so a memory route added to
/// the dispatcher before it reaches this table still answers (the OpenAPI test then misses it)
const OWNED: &[&[&str]] = &[
    &["healthz"],
    &["openapi.json"],
    &["v1", "whoami"],
    &["v1", "renders"],
    &["v1", "webhooks"],
    &["v1", "support"],
    &["v1", "admin"],
    &["v1", "callbacks"],
    &["v1", "media"],
];

fn matches(route: &Route, path: &[&str]) -> bool {
    let template: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
    let fits = |(t, p): (&&str, &&str)| t.starts_with('{') || t == p;
    if route.greedy {
        path.len() >= template.len() && template.iter().zip(path).all(fits)
    } else {
        path.len() == template.len() && template.iter().zip(path).all(fits)
    }
}

/// Lets the request through when the table has its route (or does not own its prefix); else
/// 405 when the path exists with other methods, 404 when it does not
pub(crate) fn gate(method: &Method, path: &[&str], raw_path: &str) -> Result<(), ApiError> {
    let owned = OWNED
        .iter()
        .any(|prefix| path.len() >= prefix.len() && path.get(..prefix.len()) == Some(*prefix));
    if !owned {
        return Ok(());
    }
    let mut path_exists = false;
    for route in ROUTES.iter().filter(|r| matches(r, path)) {
        if route.method == method.as_ref() {
            return Ok(());
        }
        path_exists = true;
    }
    if path_exists {
        Err(ApiError::MethodNotAllowed)
    } else {
        Err(ApiError::NotFound(format!("no route for {raw_path}")))
    }
}

/// The methods the table serves at `raw_path`, for a 405's `Allow` header (`POST, GET`)
pub(crate) fn allowed(raw_path: &str) -> String {
    let path: Vec<&str> = raw_path.split('/').filter(|s| !s.is_empty()).collect();
    let mut methods: Vec<&str> = ROUTES
        .iter()
        .filter(|r| matches(r, &path))
        .map(|r| r.method)
        .collect();
    methods.dedup();
    methods.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_their_paths_only() {
        let get = Method::Get;
        assert!(gate(&get, &["v1", "renders", "rnd_x"], "").is_ok());
        assert!(gate(&get, &["v1", "renders", "rnd_x", "events"], "").is_ok());
        assert!(matches!(
            gate(&get, &["v1", "renders", "rnd_x", "cancel"], ""),
            Err(ApiError::MethodNotAllowed)
        ));
        assert!(matches!(
            gate(&get, &["v1", "renders", "rnd_x", "nope"], ""),
            Err(ApiError::NotFound(_))
        ));
        assert!(gate(&get, &["v1", "media", "renders", "a", "b"], "").is_ok());
        assert!(gate(&get, &["v1", "elsewhere"], "").is_ok());
        assert!(
            gate(
                &Method::Post,
                &["v1", "callbacks", "kling", "j", "s", "1"],
                ""
            )
            .is_ok()
        );
        assert!(matches!(
            gate(&Method::Post, &["v1", "callbacks", "kling", "j"], ""),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn allow_names_every_method_of_the_path() {
        assert_eq!(allowed("/v1/renders"), "POST, GET");
        assert_eq!(allowed("/v1/renders/rnd_x/cancel"), "POST");
        assert_eq!(allowed("/v1/memory/"), "GET, PUT");
    }
}

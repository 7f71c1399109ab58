//! The shared HTTP error mapping.

use studio::providers::errors::{error_reason, http_error, never_moderation, retry_after};
use studio::providers::{HttpResponse, ProviderError};
use studio::time::Millis;

fn with_status(status: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn moderation(s: &str) -> bool {
    s.contains("policy")
}

#[test]
fn rate_limits_read_retry_after_seconds_and_ignore_dates() {
    let r = with_status(429, "{}", &[("Retry-After", "17")]);
    assert_eq!(
        http_error(&r, never_moderation),
        ProviderError::RateLimited {
            retry_after: Some(Millis::from_secs(17))
        }
    );
    let date = with_status(
        429,
        "{}",
        &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")],
    );
    assert_eq!(retry_after(&date), None);
    assert_eq!(
        http_error(&date, never_moderation),
        ProviderError::RateLimited { retry_after: None }
    );
    assert_eq!(retry_after(&with_status(429, "", &[])), None);
}

#[test]
fn auth_failures_are_unauthorized() {
    assert_eq!(
        http_error(&with_status(401, "{}", &[]), never_moderation),
        ProviderError::Unauthorized
    );
    assert_eq!(
        http_error(&with_status(403, "{}", &[]), never_moderation),
        ProviderError::Unauthorized
    );
}

#[test]
fn client_errors_are_rejected_or_moderated() {
    let body = r#"{"error":{"message":"violates our content policy"}}"#;
    assert!(matches!(
        http_error(&with_status(400, body, &[]), moderation),
        ProviderError::Moderated { .. }
    ));
    match http_error(
        &with_status(422, r#"{"detail":"bad input"}"#, &[]),
        moderation,
    ) {
        ProviderError::Rejected { reason } => assert_eq!(reason, "http 422: bad input"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        http_error(&with_status(408, "", &[]), moderation),
        ProviderError::Transient { .. }
    ));
}

#[test]
fn server_errors_are_transient_and_odd_statuses_malformed() {
    assert!(matches!(
        http_error(&with_status(503, "<html>", &[]), never_moderation),
        ProviderError::Transient { .. }
    ));
    assert!(matches!(
        http_error(&with_status(302, "", &[]), never_moderation),
        ProviderError::Malformed { .. }
    ));
}

#[test]
fn error_reason_reads_common_shapes_and_truncates() {
    assert_eq!(error_reason(br#"{"error":{"message":"m1"}}"#), "m1");
    assert_eq!(error_reason(br#"{"error":"m2"}"#), "m2");
    assert_eq!(
        error_reason(br#"{"detail":{"status":"x","message":"m3"}}"#),
        "m3"
    );
    assert_eq!(error_reason(br#"{"detail":[{"msg":"m4"}]}"#), "m4");
    assert_eq!(
        error_reason(br#"{"base_resp":{"status_code":1,"status_msg":"m5"}}"#),
        "m5"
    );
    assert_eq!(error_reason(b""), "empty body");
    assert_eq!(
        error_reason("é".repeat(1000).as_bytes()).chars().count(),
        300
    );
}

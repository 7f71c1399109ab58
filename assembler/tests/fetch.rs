//! Input fetches through an outage of the server that holds the inputs (the Worker restarting):
//! tried again until the input's deadline, never past it, and never for an answer that will not
//! change.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use assembler::fetch::{FetchError, client, fetch_to_file};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

const BODY: &[u8] = b"not really a clip, but bytes all the same";

/// Answers `status` to the first `failures` requests, then the body; counts every request
async fn flaky(
    State((hits, failures, status)): State<(Arc<AtomicU32>, u32, u16)>,
) -> (StatusCode, Vec<u8>) {
    let n = hits.fetch_add(1, Ordering::SeqCst);
    if n < failures {
        (StatusCode::from_u16(status).unwrap(), b"down".to_vec())
    } else {
        (StatusCode::OK, BODY.to_vec())
    }
}

async fn serve(listener: tokio::net::TcpListener, failures: u32, status: u16) -> Arc<AtomicU32> {
    let hits = Arc::new(AtomicU32::new(0));
    let app =
        Router::new()
            .route("/input", get(flaky))
            .with_state((hits.clone(), failures, status));
    tokio::spawn(async move { axum::serve(listener, app).await });
    hits
}

async fn server(failures: u32, status: u16) -> (String, Arc<AtomicU32>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/input", listener.local_addr().unwrap());
    (url, serve(listener, failures, status).await)
}

#[tokio::test]
async fn a_server_failing_for_a_while_is_tried_again_until_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("input.mp4");
    for status in [503, 502, 500, 429] {
        let (url, hits) = server(3, status).await;
        let size = fetch_to_file(
            &client().unwrap(),
            &url,
            &dest,
            1 << 20,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert_eq!(size, BODY.len() as u64);
        assert_eq!(std::fs::read(&dest).unwrap(), BODY);
        assert_eq!(hits.load(Ordering::SeqCst), 4, "HTTP {status}");
    }
}

#[tokio::test]
async fn a_server_refusing_connections_while_it_restarts_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("input.mp4");
    // A port nobody listens on for a second and a half, as while the Worker restarts
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/input");
    let later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        serve(listener, 0, 200).await
    });
    let started = Instant::now();
    let size = fetch_to_file(
        &client().unwrap(),
        &url,
        &dest,
        1 << 20,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(size, BODY.len() as u64);
    assert!(started.elapsed() >= Duration::from_millis(1_500));
    assert_eq!(later.await.unwrap().load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn answers_that_will_not_change_fail_at_once_and_outages_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("input.mp4");
    let (url, hits) = server(u32::MAX, 404).await;
    let r = fetch_to_file(
        &client().unwrap(),
        &url,
        &dest,
        1 << 20,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(r, Err(FetchError::Status(404)));
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let (url, hits) = server(u32::MAX, 503).await;
    let started = Instant::now();
    let r = fetch_to_file(
        &client().unwrap(),
        &url,
        &dest,
        1 << 20,
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(r, Err(FetchError::Status(503)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(hits.load(Ordering::SeqCst) >= 3);
    assert!(!dest.exists());
}

//! Graceful shutdown on SIGTERM and SIGINT.

use super::*;

/// Starts a signup whose body arrives in two halves, sends the signal between them, and expects
/// the request to complete and the process to exit 0.
async fn graceful_shutdown(signal: &str) {
    let dir = TempDir::new().unwrap();
    let db = Db::Sqlite(dir.path().join("graceful.db"));
    let mut server = start_server(dir.path(), &db.env()).await;
    // An idle keep-alive connection (the client's pool) must not hold the shutdown up either.
    let (status, _) = server.call("GET", "/health", None, None).await;
    assert_eq!(status, 200);

    let email = format!("inflight-{}@example.com", signal.to_lowercase());
    let body = json!({"email": email, "password": PASSWORD}).to_string();
    let (first, second) = body.split_at(body.len() / 2);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "POST /api/auth/signup HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let signalled = Instant::now();
    server.proc.signal(signal);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.proc.exited().is_none(),
        "SIG{signal}: the server waits for the request in flight"
    );
    stream.write_all(second.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        raw.starts_with("HTTP/1.1 201"),
        "SIG{signal}: the request in flight completes:\n{raw}"
    );
    let (_, json_body) = raw.split_once("\r\n\r\n").expect("headers end");
    let created: Value = serde_json::from_str(json_body).unwrap_or_else(|e| panic!("{e}: {json_body}"));
    assert_eq!(created["email"], email.as_str());
    assert!(created["token"].is_string());

    let status = server
        .proc
        .wait_timeout(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("SIG{signal}: no exit within 10 s"));
    let stderr = server.proc.stderr();
    assert_eq!(status.code(), Some(0), "SIG{signal}: exit status; stderr:\n{stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "SIG{signal}: took {:?}",
        signalled.elapsed()
    );
    assert!(stderr.contains("shutdown signal received"), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "stderr:\n{stderr}");
    // The listener is gone.
    assert!(
        TcpStream::connect(&addr).is_err(),
        "SIG{signal}: nothing listens after exit"
    );
    // The write the response announced is there for the next process.
    let server = start_server(dir.path(), &db.env()).await;
    let (status, login) = server.login(&email, PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["user_id"], created["user_id"]);
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_and_exits_zero() {
    graceful_shutdown("TERM").await;
}

#[tokio::test]
async fn sigint_finishes_the_request_in_flight_and_exits_zero() {
    graceful_shutdown("INT").await;
}

//! The request log: one line per request, never a token, password or body.

use super::*;

#[tokio::test]
async fn request_log_has_one_line_per_request_and_no_secrets() {
    let dir = TempDir::new().unwrap();
    let mut server = start_server(
        dir.path(),
        &vars(&[("BETTER_AUTH_SECRET", "log-test-secret-0123456789abcdefghij")]),
    )
    .await;
    let (user_id, token) = server.signup("logged@example.com").await;
    let (status, _) = server.login("logged@example.com", "a-wrong-password-xyz").await;
    assert_eq!(status, 401);
    server.create_task(&user_id, &token, "a very private title").await;
    let (status, _) = server
        .call(
            "GET",
            &format!("/api/{user_id}/tasks?q=secret-search-text"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let res = server
        .client
        .get(format!("{}/health", server.base))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    server.stop();

    let log = server.proc.stderr();
    for secret in [
        PASSWORD,
        "a-wrong-password-xyz",
        token.as_str(),
        "a very private title",
        "kept across restarts",
        "secret-search-text",
    ] {
        assert!(!log.contains(secret), "the log contains {secret:?}:\n{log}");
    }
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("request_id")).collect();
    // signup, login, create, list, health, plus the readiness polls before.
    assert!(lines.len() >= 5, "{log}");
    let health = lines
        .iter()
        .find(|l| l.contains("trace-me-123"))
        .expect("the client's request id is logged");
    for part in ["GET", "/health", "status=200", "latency_us="] {
        assert!(health.contains(part), "{part} in {health}");
    }
    let create = lines
        .iter()
        .find(|l| l.contains("POST") && l.contains("/tasks"))
        .expect("create logged");
    assert!(create.contains("status=201"), "{create}");
}

#[tokio::test]
async fn json_log_format_writes_one_object_per_line() {
    let dir = TempDir::new().unwrap();
    let mut server = start_server(
        dir.path(),
        &vars(&[
            ("BETTER_AUTH_SECRET", "log-test-secret-0123456789abcdefghij"),
            ("LOG_FORMAT", "json"),
        ]),
    )
    .await;
    let res = server
        .client
        .get(format!("{}/health", server.base))
        .header("x-request-id", "json-log-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    server.stop();

    let log = server.proc.stderr();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON object ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "start, request, stop:\n{log}");
    for line in &lines {
        assert!(line["timestamp"].is_string(), "{line}");
        assert!(line["level"].is_string(), "{line}");
        assert!(line["message"].is_string(), "{line}");
    }
    let request = lines
        .iter()
        .find(|l| l["request_id"] == "json-log-42")
        .unwrap_or_else(|| panic!("the request's line:\n{log}"));
    assert_eq!(request["message"], "request");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["path"], "/health");
    assert_eq!(request["status"], 200);
    assert!(request["latency_us"].is_u64(), "{request}");
}

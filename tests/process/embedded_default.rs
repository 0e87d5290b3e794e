//! The embedded default: no configuration, a secret that is kept.

use super::*;

#[tokio::test]
async fn embedded_default_needs_no_configuration_and_keeps_its_secret() {
    use std::os::unix::fs::PermissionsExt;

    let dir = TempDir::new().unwrap();
    let mut server = start_server(dir.path(), &[]).await;
    let (status, body) = server.call("GET", "/health", None, None).await;
    assert_eq!(
        (status, body),
        (200, json!({"status": "healthy", "message": "API is running"}))
    );

    let db = dir.path().join("taskapi.db");
    let secret_file = dir.path().join("taskapi.db.secret");
    assert!(db.is_file(), "taskapi.db created in the working directory");
    let mode = std::fs::metadata(&secret_file)
        .expect("taskapi.db.secret created")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "secret file mode is {mode:o}");
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    assert!(secret.trim().chars().count() >= 32, "generated secret is long enough");
    let db_mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        db_mode, 0o600,
        "taskapi.db holds password hashes: owner only (mode {db_mode:o})"
    );
    assert!(
        server.proc.stderr().contains("BETTER_AUTH_SECRET"),
        "a warning names BETTER_AUTH_SECRET:\n{}",
        server.proc.stderr()
    );

    let (user_id, token) = server.signup("embedded@example.com").await;
    let (status, me_before) = server.call("GET", "/api/auth/me", Some(&token), None).await;
    assert_eq!(status, 200, "{me_before}");
    assert_eq!(me_before["user_id"], user_id.as_str());
    server.stop();

    // A restart reads the same secret: the token from before still works.
    let server = start_server(dir.path(), &[]).await;
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap(),
        secret,
        "the secret file is reused, not rewritten"
    );
    assert_eq!(
        std::fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (status, me_after) = server.call("GET", "/api/auth/me", Some(&token), None).await;
    assert_eq!(status, 200, "token from before the restart: {me_after}");
    assert_eq!(me_after, me_before);
    assert!(
        !server.proc.stderr().contains("generated one"),
        "no second secret generated:\n{}",
        server.proc.stderr()
    );
}

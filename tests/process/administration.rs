//! Account administration (`taskapi users`) while a server runs.

use super::*;

const IMPORTED_ID: &str = "7b0f3c1e-9a55-4d8e-b6f1-2f6c0d9e4a10";

/// `users list` rows: (user_id, email, active, kind, created_at).
fn user_rows(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|r| r.len() == 5)
        .collect()
}

fn user_row(stdout: &str, email: &str) -> Option<Vec<String>> {
    user_rows(stdout).into_iter().find(|r| r[1] == email)
}

async fn users_administration(dir: &Path, db: &Db) {
    let env = db.env();
    let server = start_server(dir, &env).await;
    let hash = PASSLIB_BCRYPT.trim();

    // Import one account exported from the FastAPI system.
    let import = dir.join("users.jsonl");
    let line = json!({"email": "  Legacy.User@Example.COM ", "hashed_password": hash, "id": IMPORTED_ID,
                      "name": "Legacy User", "is_active": true, "created_at": "2025-01-02T03:04:05.123456"});
    std::fs::write(&import, format!("{line}\n\n")).unwrap();
    let out = run_cli(dir, &env, &["users", "import", import.to_str().unwrap()]);
    out.assert_success("users import");
    assert!(out.stdout.contains("imported 1, skipped 0"), "{}", out.stdout);

    // The running server lets that account in with its old password.
    let (status, login) = server.login("legacy.user@example.com", PASSWORD).await;
    assert_eq!(status, 200, "imported account logs in: {login}");
    assert_eq!(login["user_id"], IMPORTED_ID);
    assert_eq!(login["email"], "legacy.user@example.com");
    assert_eq!(login["token_type"], "bearer");
    let token = login["token"].as_str().unwrap().to_owned();
    let (status, me) = server.call("GET", "/api/auth/me", Some(&token), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me,
        json!({"user_id": IMPORTED_ID, "email": "legacy.user@example.com", "name": "Legacy User",
               "is_active": true, "created_at": "2025-01-02T03:04:05.123456Z"})
    );
    // The wrong password is still wrong (and the bcrypt hash was re-hashed on login, not lost).
    let (status, body) = server.login("legacy.user@example.com", "not-the-password").await;
    assert_eq!((status, body), (401, json!({"detail": "Invalid email or password"})));
    assert_eq!(server.login("Legacy.User@example.com", PASSWORD).await.0, 200);

    // Importing the same file again skips it.
    let out = run_cli(dir, &env, &["users", "import", import.to_str().unwrap()]);
    out.assert_success("second users import");
    assert!(out.stdout.contains("imported 0, skipped 1"), "{}", out.stdout);

    // A malformed second line: nothing from the file is written.
    let bad = dir.join("bad.jsonl");
    let first = json!({"email": "second.user@example.com", "hashed_password": hash});
    std::fs::write(&bad, format!("{first}\n{{\"email\": \"broken\"\n")).unwrap();
    let out = run_cli(dir, &env, &["users", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success(), "malformed file must fail: {}", out.stdout);
    assert_no_panic(&out);
    assert!(
        out.last_stderr_line().contains("line 2"),
        "stderr names the line: {}",
        out.stderr
    );
    let list = run_cli(dir, &env, &["users", "list"]);
    list.assert_success("users list");
    assert!(
        !list.stdout.contains("second.user@example.com"),
        "line 1 of a bad file was written:\n{}",
        list.stdout
    );
    assert_eq!(server.login("second.user@example.com", PASSWORD).await.0, 401);

    // Disable an account whose token the server has already seen (and cached).
    let (user_id, user_token) = server.signup("disable.me@example.com").await;
    let (status, _) = server.call("GET", "/api/auth/me", Some(&user_token), None).await;
    assert_eq!(status, 200);
    let out = run_cli(dir, &env, &["users", "disable", "Disable.Me@Example.com"]);
    out.assert_success("users disable");
    assert!(out.stdout.contains("disabled disable.me@example.com"), "{}", out.stdout);
    assert!(out.stdout.contains(&user_id), "{}", out.stdout);

    let (status, body) = server.login("disable.me@example.com", PASSWORD).await;
    assert_eq!(
        (status, body),
        (403, json!({"detail": "Account is disabled"})),
        "login of a disabled account"
    );
    let list = run_cli(dir, &env, &["users", "list"]);
    let row = user_row(&list.stdout, "disable.me@example.com").unwrap_or_else(|| panic!("listed:\n{}", list.stdout));
    assert_eq!(row[2], "no", "{row:?}");

    // The running server refuses the existing token: on PostgreSQL within 5 s (the command's
    // change is announced to every server), on SQLite within the cache bound (30 s; contract 60 s).
    let bound = match db {
        Db::Postgres(_) => Duration::from_secs(5),
        Db::Sqlite(_) => Duration::from_secs(40),
    };
    let disabled_at = Instant::now();
    loop {
        let (status, body) = server.call("GET", "/api/auth/me", Some(&user_token), None).await;
        if status == 403 {
            assert_eq!(body, json!({"detail": "Account is disabled"}));
            break;
        }
        assert_eq!(status, 200, "before the cache expires the token still works: {body}");
        assert!(
            disabled_at.elapsed() < bound,
            "token of a disabled account still accepted after {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = server
        .call("GET", &format!("/api/{user_id}/tasks"), Some(&user_token), None)
        .await;
    assert_eq!((status, body), (403, json!({"detail": "Account is disabled"})));

    // Enable restores login.
    let out = run_cli(dir, &env, &["users", "enable", "disable.me@example.com"]);
    out.assert_success("users enable");
    assert!(out.stdout.contains("enabled disable.me@example.com"), "{}", out.stdout);
    let (status, body) = server.login("disable.me@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], user_id.as_str());

    // An unknown email: exit 1 and one clear line.
    let out = run_cli(dir, &env, &["users", "disable", "nobody@example.com"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", out.stderr);
    assert_no_panic(&out);
    assert!(out.last_stderr_line().contains("nobody@example.com"), "{}", out.stderr);
    assert_eq!(out.non_empty_stderr_lines().len(), 1, "{}", out.stderr);
    let out = run_cli(dir, &env, &["users", "enable", "nobody@example.com"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", out.stderr);

    // The list shows every account.
    let list = run_cli(dir, &env, &["users", "list"]);
    list.assert_success("users list");
    assert!(
        list.stdout.lines().next().is_some_and(|h| h.contains("email")),
        "a header line:\n{}",
        list.stdout
    );
    let rows = user_rows(&list.stdout);
    assert_eq!(rows.len(), 2, "two accounts:\n{}", list.stdout);
    let legacy = user_row(&list.stdout, "legacy.user@example.com").expect("imported account listed");
    assert_eq!(
        legacy,
        [
            IMPORTED_ID,
            "legacy.user@example.com",
            "yes",
            "local",
            "2025-01-02T03:04:05.123456Z"
        ]
    );
    let enabled = user_row(&list.stdout, "disable.me@example.com").expect("signed-up account listed");
    assert_eq!((enabled[0].as_str(), enabled[2].as_str()), (user_id.as_str(), "yes"));
}

#[tokio::test]
async fn sqlite_users_administration_while_a_server_runs() {
    let dir = TempDir::new().unwrap();
    let db = Db::Sqlite(dir.path().join("users.db"));
    users_administration(dir.path(), &db).await;
}

#[tokio::test]
async fn postgres_users_administration_while_a_server_runs() {
    let Some(pg) = PgDatabase::create().await else { return };
    let dir = TempDir::new().unwrap();
    users_administration(dir.path(), &Db::Postgres(pg)).await;
}

//! Bad configuration: the process exits non-zero with one line naming the variable.

use super::*;

#[test]
fn bad_configuration_exits_non_zero_with_one_line_naming_the_variable() {
    let dir = TempDir::new().unwrap();
    /// What the case is, its environment, and the variable the error must name.
    type Case = (&'static str, Vec<(String, String)>, &'static str);
    let cases: [Case; 8] = [
        (
            "garbage URL",
            vars(&[("DATABASE_URL", "not-a-url"), ("BETTER_AUTH_SECRET", SECRET)]),
            "DATABASE_URL",
        ),
        (
            "unreachable database",
            vars(&[
                ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x"),
                ("BETTER_AUTH_SECRET", SECRET),
                ("DB_ACQUIRE_TIMEOUT", "1s"),
            ]),
            "DATABASE_URL",
        ),
        (
            "unreachable direct database",
            vars(&[
                ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                ("DATABASE_DIRECT_URL", "postgres://postgres@127.0.0.1:2/x"),
                ("BETTER_AUTH_SECRET", SECRET),
                ("DB_ACQUIRE_TIMEOUT", "1s"),
            ]),
            "DATABASE_DIRECT_URL",
        ),
        (
            "short secret",
            vars(&[("BETTER_AUTH_SECRET", "short")]),
            "BETTER_AUTH_SECRET",
        ),
        ("unknown log format", vars(&[("LOG_FORMAT", "xml")]), "LOG_FORMAT"),
        (
            "PostgreSQL without a secret",
            vars(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")]),
            "BETTER_AUTH_SECRET",
        ),
        (
            "Better Auth database URL of another kind",
            vars(&[
                ("BETTER_AUTH_DATABASE_URL", "mysql://auth/db"),
                ("BETTER_AUTH_SECRET", SECRET),
            ]),
            "BETTER_AUTH_DATABASE_URL",
        ),
        (
            "Better Auth URL without a scheme",
            vars(&[("BETTER_AUTH_URL", "app.example.com"), ("BETTER_AUTH_SECRET", SECRET)]),
            "BETTER_AUTH_URL",
        ),
    ];
    for (what, mut env, variable) in cases {
        env.push(("PORT".to_owned(), free_port().to_string()));
        let started = Instant::now();
        let out = finish(
            Proc::spawn(dir.path(), &env, &["serve"]),
            Duration::from_secs(10),
            started,
        );
        assert!(
            !out.status.success(),
            "{what}: must exit non-zero; stderr:\n{}",
            out.stderr
        );
        assert!(out.took < Duration::from_secs(10), "{what}: took {:?}", out.took);
        assert_no_panic(&out);
        let lines = out.non_empty_stderr_lines();
        assert_eq!(
            lines.len(),
            1,
            "{what}: exactly one line on stderr, got:\n{}",
            out.stderr
        );
        assert!(
            out.last_stderr_line().contains(variable),
            "{what}: the line names {variable}: {:?}",
            out.last_stderr_line()
        );
        assert!(
            out.stdout.trim().is_empty(),
            "{what}: nothing on stdout: {}",
            out.stdout
        );
    }
    // A connection error names the host and port it tried, never the password.
    let serve_on = |url: &str| {
        finish(
            Proc::spawn(
                dir.path(),
                &vars(&[
                    ("DATABASE_URL", url),
                    ("BETTER_AUTH_SECRET", SECRET),
                    ("DB_ACQUIRE_TIMEOUT", "1s"),
                ]),
                &["serve"],
            ),
            Duration::from_secs(10),
            Instant::now(),
        )
    };
    let out = serve_on("postgres://app:hunter2-very-secret@127.0.0.1:1/tasks");
    assert!(!out.status.success());
    assert!(out.last_stderr_line().contains("127.0.0.1:1"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "the password leaked: {}", out.stderr);
    // Through a Unix socket: the directory it tried.
    let no_socket = dir.path().join("no-socket-here");
    std::fs::create_dir_all(&no_socket).unwrap();
    let out = serve_on(&format!("postgres:///tasks?host={}&user=app", no_socket.display()));
    assert!(!out.status.success());
    let line = out.last_stderr_line();
    assert!(line.contains(&no_socket.display().to_string()), "{}", out.stderr);
    assert!(!line.contains("/var/run/postgresql"), "{}", out.stderr);
    // The same checks hold for the other commands, which read the same configuration.
    let out = run_cli(
        dir.path(),
        &vars(&[("DATABASE_URL", "not-a-url")]),
        &["migrate", "status"],
    );
    assert!(!out.status.success());
    assert_no_panic(&out);
    assert!(out.last_stderr_line().contains("DATABASE_URL"), "{}", out.stderr);
    // None of this created a database in the working directory.
    assert!(
        !dir.path().join("taskapi.db").exists(),
        "a failed start must not create taskapi.db"
    );
}

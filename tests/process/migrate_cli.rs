//! Migrations through the command line.

use super::*;

async fn migrate_cli_round_trips(dir: &Path, db: &Db) {
    let env = db.env();
    let all = db.migrations().len();
    let recorded: Vec<(i64, bool)> = db.migrations().iter().map(|(v, _)| (*v, true)).collect();
    let out = run_cli(dir, &env, &["migrate", "status"]);
    assert_migrations(&out, db, 0);
    assert_eq!(db.tables().await, Vec::<String>::new(), "status applies nothing");

    let out = run_cli(dir, &env, &["migrate", "up"]);
    assert_migrations(&out, db, all);
    assert!(out.stdout.contains("migrations applied"), "{}", out.stdout);
    assert_eq!(db.tables().await, db.app_tables());
    assert_migrations(&run_cli(dir, &env, &["migrate", "status"]), db, all);

    // Up again is a no-op.
    assert_migrations(&run_cli(dir, &env, &["migrate", "up"]), db, all);

    // Down with no count reverts the last one only.
    let out = run_cli(dir, &env, &["migrate", "down"]);
    assert_migrations(&out, db, all - 1);
    // The last one takes away only what it made: an index on SQLite (0009), the event stream
    // places on PostgreSQL (0010).
    let mut before_last = db.app_tables();
    before_last.retain(|t| *t != "event_streams");
    assert_eq!(db.tables().await, before_last);

    assert_migrations(&run_cli(dir, &env, &["migrate", "up"]), db, all);
    let out = run_cli(dir, &env, &["migrate", "down", &all.to_string()]);
    assert_migrations(&out, db, 0);
    assert!(out.stdout.contains("reverted"), "{}", out.stdout);
    assert_eq!(db.tables().await, Vec::<String>::new(), "down {all} drops every table");
    assert_migrations(&run_cli(dir, &env, &["migrate", "status"]), db, 0);

    assert_migrations(&run_cli(dir, &env, &["migrate", "up"]), db, all);
    assert_eq!(db.tables().await, db.app_tables());
    assert_eq!(db.migration_rows().await, recorded);

    // A server on the re-applied schema works.
    let mut server_env = env.clone();
    server_env.push(("AUTO_MIGRATE".to_owned(), "false".to_owned()));
    let server = start_server(dir, &server_env).await;
    let (user_id, token) = server.signup("migrated@example.com").await;
    server.create_task(&user_id, &token, "After a round trip").await;
}

#[tokio::test]
async fn sqlite_migrate_cli_round_trips() {
    let dir = TempDir::new().unwrap();
    let db = Db::Sqlite(dir.path().join("migrate.db"));
    migrate_cli_round_trips(dir.path(), &db).await;
}

#[tokio::test]
async fn postgres_migrate_cli_round_trips() {
    let Some(pg) = PgDatabase::create().await else { return };
    let dir = TempDir::new().unwrap();
    migrate_cli_round_trips(dir.path(), &Db::Postgres(pg)).await;
}

#[tokio::test]
async fn postgres_two_concurrent_migrate_up_apply_the_schema_once() {
    let Some(pg) = PgDatabase::create().await else { return };
    let dir = TempDir::new().unwrap();
    let db = Db::Postgres(pg);
    let env = db.env();
    let started = Instant::now();
    let a = Proc::spawn(dir.path(), &env, &["migrate", "up"]);
    let b = Proc::spawn(dir.path(), &env, &["migrate", "up"]);
    for out in [
        finish(a, Duration::from_secs(60), started),
        finish(b, Duration::from_secs(60), started),
    ] {
        assert_migrations(&out, &db, db.migrations().len());
        assert_no_panic(&out);
    }
    let recorded: Vec<(i64, bool)> = db.migrations().iter().map(|(v, _)| (*v, true)).collect();
    assert_eq!(db.migration_rows().await, recorded, "each migration recorded once");
    assert_eq!(db.tables().await, db.app_tables());
}

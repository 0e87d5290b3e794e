//! Durability across `kill -9`.

use super::*;

async fn write_survives_kill_9(dir: &Path, db: &Db) {
    let mut server = start_server(dir, &db.env()).await;
    let (user_id, token) = server.signup("durable@example.com").await;
    let task = server.create_task(&user_id, &token, "Survive kill -9").await;
    server.proc.kill_hard();
    drop(server);

    let server = start_server(dir, &db.env()).await;
    let path = format!("/api/{user_id}/tasks/{}", task["id"].as_str().unwrap());
    let (status, again) = server.call("GET", &path, Some(&token), None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, task, "the task reads back identical after kill -9 and restart");
    let (status, list) = server
        .call("GET", &format!("/api/{user_id}/tasks"), Some(&token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list, json!([task]));
}

#[tokio::test]
async fn sqlite_write_survives_kill_9() {
    let dir = TempDir::new().unwrap();
    let db = Db::Sqlite(dir.path().join("durable.db"));
    write_survives_kill_9(dir.path(), &db).await;
}

#[tokio::test]
async fn postgres_write_survives_kill_9() {
    let Some(pg) = PgDatabase::create().await else { return };
    let dir = TempDir::new().unwrap();
    let db = Db::Postgres(pg);
    write_survives_kill_9(dir.path(), &db).await;
}

//! `[store] type = "dynamodb"`: configuration and startup failures. The whole API suite runs on
//! DynamoDB with `STARLING_TEST_BACKEND=dynamodb` (scripts/test.sh, against moto).

#[test]
fn the_dynamodb_store_is_configured_in_toml() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("starling.toml");
    std::fs::write(&path, "[store]\ntype = \"dynamodb\"\ntable = \"social\"\nendpoint = \"http://127.0.0.1:8000\"\ncreate_table = true\nlog_partitions = 64\n")
        .unwrap();
    let settings = core_server::Settings::load(Some(&path)).unwrap();
    match settings.store {
        core_server::StoreSettings::Dynamodb { table, region, endpoint, access_key_id, secret_access_key, create_table, log_partitions } => {
            assert_eq!(table, "social");
            assert_eq!(region, "us-east-1", "the region defaults");
            assert_eq!(endpoint.as_deref(), Some("http://127.0.0.1:8000"));
            assert!(access_key_id.is_none() && secret_access_key.is_none(), "absent keys: the standard AWS credential chain");
            assert!(create_table);
            assert_eq!(log_partitions, 64);
        }
        other => panic!("expected the dynamodb store, got {other:?}"),
    }
    std::fs::write(&path, "[store]\ntype = \"dynamodb\"\n").unwrap();
    assert!(core_server::Settings::load(Some(&path)).is_err(), "the table is required");
}

#[tokio::test]
async fn startup_fails_fast_and_clearly_when_dynamodb_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = core_server::Settings::default();
    settings.server.data_dir = dir.path().to_path_buf();
    settings.store = core_server::StoreSettings::Dynamodb {
        table: "starling".into(),
        region: "us-east-1".into(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        create_table: false,
        log_partitions: 1,
    };
    let started = std::time::Instant::now();
    let error = format!("{:#}", core_server::build(&settings).await.err().expect("an unreachable store stops startup"));
    assert!(error.contains("dynamodb store is unusable") && error.contains("unreachable") && error.contains(&port.to_string()), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "fails fast");

    settings.store = core_server::StoreSettings::Dynamodb {
        table: "t".into(),
        region: "us-east-1".into(),
        endpoint: None,
        access_key_id: Some("id".into()),
        secret_access_key: None,
        create_table: false,
        log_partitions: 1,
    };
    let error = format!("{:#}", core_server::build(&settings).await.err().expect("half the credentials is an error"));
    assert!(error.contains("go together"), "{error}");
}

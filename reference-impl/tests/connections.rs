//! The socket server's limits (`net`): header, idle and body-stall timeouts, the connection
//! cap that gives way to idle connections, and a shutdown that ends with requests half-sent.
//! Real sockets on 127.0.0.1; timeouts are shortened so each test takes about a second.

use std::time::Duration;

use influx_reference::net::HttpLimits;
use influx_reference::{Reference, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

fn limits() -> HttpLimits {
    HttpLimits {
        read_header_timeout: Some(Duration::from_millis(300)),
        read_timeout: None,
        write_timeout: None,
        idle_timeout: Some(Duration::from_millis(900)),
        max_connections: 64,
        shutdown_timeout: Duration::from_millis(500),
    }
}

async fn serve(limits: HttpLimits) -> influx_reference::ServerHandle {
    let reference = Reference::new(ServerConfig {
        http: limits,
        ..ServerConfig::default()
    })
    .expect("reference");
    reference
        .listen("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listen")
}

/// Reads until the peer closes; returns what was read and how long it took.
async fn read_to_close(s: &mut TcpStream, bound: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match timeout(bound, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server did not close the connection within {bound:?}"),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

#[tokio::test]
async fn a_request_head_sent_half_way_is_cut_at_the_header_timeout() {
    let server = serve(limits()).await;
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost:").await.unwrap();
    let (got, took) = read_to_close(&mut s, Duration::from_secs(5)).await;
    assert_eq!(got, "", "no answer to a head that never ends");
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_cut_at_the_header_timeout() {
    let server = serve(limits()).await;
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    let (_, took) = read_to_close(&mut s, Duration::from_secs(5)).await;
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn keep_alive_waits_the_idle_timeout_not_the_header_timeout() {
    let server = serve(limits()).await;
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    let mut buf = [0u8; 4096];
    s.write_all(HEALTH).await.unwrap();
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Longer than the header timeout, shorter than the idle timeout: still usable.
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.write_all(HEALTH).await.unwrap();
    let n = timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Then left idle: closed after the idle timeout.
    let (_, took) = read_to_close(&mut s, Duration::from_secs(5)).await;
    assert!(
        took >= Duration::from_millis(800),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn a_body_that_stops_coming_is_cut_at_the_idle_timeout() {
    let server = serve(limits()).await;
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(
        b"POST /api/v2/write?org=my-org&bucket=my-bucket HTTP/1.1\r\nHost: x\r\nAuthorization: Token my-token\r\nContent-Length: 100\r\n\r\nm v=1",
    )
    .await
    .unwrap();
    let (got, took) = read_to_close(&mut s, Duration::from_secs(5)).await;
    assert_eq!(got, "");
    assert!(
        took >= Duration::from_millis(800),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn the_read_timeout_bounds_a_slow_body() {
    let server = serve(HttpLimits {
        read_timeout: Some(Duration::from_millis(400)),
        ..limits()
    })
    .await;
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(
        b"POST /api/v2/write?org=my-org&bucket=my-bucket HTTP/1.1\r\nHost: x\r\nAuthorization: Token my-token\r\nContent-Length: 100\r\n\r\n",
    )
    .await
    .unwrap();
    // A byte every 100 ms never stalls long enough for the idle timeout; the read timeout
    // still ends it.
    let start = Instant::now();
    let mut closed = false;
    while start.elapsed() < Duration::from_secs(5) {
        if s.write_all(b"x").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(Ok(0) | Err(_)) = timeout(Duration::from_millis(100), s.read(&mut buf)).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "a trickling body outlived the read timeout");
    assert!(start.elapsed() < Duration::from_secs(3));
}

/// More idle connections than the cap: each new one displaces the oldest idle one, and
/// `/health` is always answered.
#[tokio::test]
async fn idle_connections_never_starve_health() {
    let server = serve(HttpLimits {
        max_connections: 16,
        read_header_timeout: Some(Duration::from_secs(30)),
        idle_timeout: Some(Duration::from_secs(30)),
        ..limits()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..100 {
        let mut s = TcpStream::connect(server.addr()).await.unwrap();
        // Make each one a served keep-alive connection, then leave it idle.
        s.write_all(HEALTH).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("health answered while at the cap")
            .unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        idle.push(s);
    }
    let r = timeout(
        Duration::from_secs(5),
        reqwest::get(format!("http://{}/health", server.addr())),
    )
    .await
    .expect("health within 5 s")
    .unwrap();
    assert_eq!(r.status(), 200);
}

/// A shutdown with a request half-sent still ends, within the bound.
#[tokio::test]
async fn shutdown_ends_with_a_request_half_sent() {
    let server = serve(HttpLimits {
        read_header_timeout: Some(Duration::from_secs(60)),
        idle_timeout: Some(Duration::from_secs(60)),
        ..limits()
    })
    .await;
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(b"POST /api/v2/write HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("shutdown within 5 s");
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// Connections that never send a byte are closed to make room too: a flood of silent
/// connections does not keep `/health` out for the header timeout.
#[tokio::test]
async fn silent_connections_give_way_to_new_ones() {
    let server = serve(HttpLimits {
        max_connections: 8,
        read_header_timeout: Some(Duration::from_secs(30)),
        idle_timeout: Some(Duration::from_secs(30)),
        ..limits()
    })
    .await;
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    let r = timeout(
        Duration::from_secs(5),
        reqwest::get(format!("http://{}/health", server.addr())),
    )
    .await
    .expect("health within 5 s")
    .unwrap();
    assert_eq!(r.status(), 200);
}

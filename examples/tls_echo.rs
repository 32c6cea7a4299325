//! TLS on evloop: an echo server and its client over rustls.
//!
//! ```sh
//! cargo run --release --example tls_echo
//! ```
//!
//! `futures-rustls` wraps any stream that implements `futures-io`'s `AsyncRead`/`AsyncWrite`,
//! which evloop's `TcpStream` does, so TLS needs no adapter: accept or connect as usual, then hand
//! the stream to a `TlsAcceptor` or `TlsConnector`. The certificate is made at run time with
//! `rcgen` (self-signed, for `localhost`), so nothing secret is in the repository; a real server
//! loads its own. The test at the bottom runs the same exchange (`cargo test` runs it).

use std::error::Error;
use std::sync::Arc;

use evloop::net::{TcpListener, TcpStream};
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use futures_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};

/// A server and a client configuration that trust each other: a fresh self-signed certificate
/// for `localhost`, which the client takes as its only root.
fn tls_configs() -> Result<(TlsAcceptor, TlsConnector), Box<dyn Error>> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let certificate: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());

    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![certificate.clone()], key)?;
    let mut roots = RootCertStore::empty();
    roots.add(certificate)?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((
        TlsAcceptor::from(Arc::new(server)),
        TlsConnector::from(Arc::new(client)),
    ))
}

/// Serves one TLS connection: echoes what it reads until the client closes.
async fn echo_one(listener: &TcpListener, acceptor: &TlsAcceptor) -> Result<(), Box<dyn Error>> {
    let (tcp, _) = listener.accept().await?;
    let mut tls = acceptor.accept(tcp).await?;
    let mut buffer = [0; 1024];
    loop {
        let n = tls.read(&mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        tls.write_all(&buffer[..n]).await?;
        tls.flush().await?;
    }
}

/// Connects over TLS, sends each message and returns the echoes.
async fn send_all(
    address: std::net::SocketAddr,
    connector: &TlsConnector,
    messages: &[&str],
) -> Result<Vec<String>, Box<dyn Error>> {
    let tcp = TcpStream::connect(address).await?;
    let mut tls = connector
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let mut echoes = Vec::new();
    for message in messages {
        tls.write_all(message.as_bytes()).await?;
        tls.flush().await?;
        let mut echo = vec![0; message.len()];
        tls.read_exact(&mut echo).await?;
        echoes.push(String::from_utf8(echo)?);
    }
    tls.close().await?; // TLS close_notify, then the TCP write side
    Ok(echoes)
}

/// Runs one echo exchange over TLS on loopback and returns the echoes.
async fn exchange(messages: &[&str]) -> Result<Vec<String>, Box<dyn Error>> {
    let (acceptor, connector) = tls_configs()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let server = evloop::spawn(async move {
        echo_one(&listener, &acceptor)
            .await
            .map_err(|error| error.to_string())
    });
    let echoes = send_all(address, &connector, messages).await?;
    server.await??;
    Ok(echoes)
}

fn main() -> Result<(), Box<dyn Error>> {
    evloop::run(async {
        for echo in exchange(&["hello over TLS", "on evloop"]).await? {
            println!("echoed: {echo}");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_echo_round_trips_on_evloop_streams() {
        let messages = ["first", "a longer second message", "3"];
        let echoes = evloop::run(exchange(&messages)).unwrap();
        assert_eq!(echoes, messages);
    }

    #[test]
    fn a_client_that_does_not_trust_the_certificate_is_refused() {
        evloop::run(async {
            let (acceptor, _) = tls_configs().unwrap();
            let (_, stranger) = tls_configs().unwrap(); // trusts another certificate
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let server =
                evloop::spawn(async move { echo_one(&listener, &acceptor).await.is_err() });
            let refused = send_all(address, &stranger, &["secret"]).await;
            assert!(refused.is_err(), "the handshake must fail");
            assert!(
                server.await.unwrap(),
                "the server sees the failed handshake"
            );
        });
    }
}

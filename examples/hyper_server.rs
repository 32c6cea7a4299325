//! hyper's HTTP/1 server running on evloop: a real third-party protocol stack on this runtime.
//!
//! ```sh
//! cargo run --release --example hyper_server             # listens on 127.0.0.1:3000
//! curl http://127.0.0.1:3000/anything                   # or: cargo run --example hyper_client
//! ```
//!
//! The adapters between hyper and evloop, and the service, are in `hyper_on_evloop.rs`; the
//! `hyper_client` example's test serves with this server's code and fetches with hyper's client.

#[path = "hyper_on_evloop.rs"]
mod hyper_on_evloop;

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    evloop::run(async move {
        let listener = evloop::net::TcpListener::bind(&address)?;
        println!("hyper on evloop at http://{}/", listener.local_addr()?);
        hyper_on_evloop::serve(listener).await;
        Ok(())
    })
}

//! A TCP echo client: sends a few lines to the echo server and prints what comes back.
//!
//! ```sh
//! cargo run --release --example echo_client [127.0.0.1:7878]
//! ```

use std::time::Instant;

use evloop::net::TcpStream;

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7878".into());
    evloop::run(async move {
        let stream = TcpStream::connect(&address).await?;
        stream.set_nodelay(true)?;
        println!("connected to {}", stream.peer_addr()?);
        for line in ["hello", "from", "evloop"] {
            let start = Instant::now();
            stream.write_all(line.as_bytes()).await?;
            let mut reply = vec![0; line.len()];
            stream.read_exact(&mut reply).await?;
            println!(
                "sent {line:?}, got {:?} back in {:?}",
                String::from_utf8_lossy(&reply),
                start.elapsed()
            );
        }
        Ok(())
    })
}

//! A TCP echo server: every connection gets its own task; whatever a client sends comes back.
//!
//! ```sh
//! cargo run --release --example echo_server            # listens on 127.0.0.1:7878
//! cargo run --release --example echo_client             # in another terminal
//! ```
//!
//! This server echoes bytes as they come. A line protocol (asyncio's `reader.readline()`) needs
//! no evloop method: evloop's streams and their halves implement `futures-io`'s `AsyncRead`, so
//! futures-util's `BufReader` and `AsyncBufReadExt` read lines from them
//! (`runtime/tests/ecosystem.rs` tests exactly this):
//!
//! ```ignore
//! use futures_util::io::{AsyncBufReadExt, BufReader};
//!
//! let (reader, mut writer) = stream.into_split();
//! let mut lines = BufReader::new(reader);
//! let mut line = String::new();
//! while lines.read_line(&mut line).await? > 0 {   // the newline is kept, as in asyncio
//!     writer.write_all(line.as_bytes()).await?;
//!     line.clear();
//! }
//! ```

use evloop::net::{TcpListener, TcpStream};

async fn echo(stream: TcpStream) -> std::io::Result<u64> {
    let mut buffer = vec![0; 16 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(total); // the client closed its side
        }
        stream.write_all(&buffer[..n]).await?;
        total += n as u64;
    }
}

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7878".into());
    evloop::run(async move {
        let listener = TcpListener::bind(&address)?;
        println!("echo server listening on {}", listener.local_addr()?);
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    evloop::spawn(async move {
                        match echo(stream).await {
                            Ok(bytes) => println!("{peer}: echoed {bytes} bytes"),
                            Err(error) => println!("{peer}: {error}"),
                        }
                    });
                }
                // Out of descriptors, for instance: accept backs off by itself; keep serving.
                Err(error) => eprintln!("accept failed: {error}"),
            }
        }
    })
}

//! hyper's HTTP/1 client running on evloop: fetch paths from a server over one keep-alive
//! connection.
//!
//! ```sh
//! cargo run --release --example hyper_server &                        # the server
//! cargo run --release --example hyper_client -- 127.0.0.1:3000 / /hello   # this client
//! ```
//!
//! The adapters between hyper and evloop, and `fetch`, are in `hyper_on_evloop.rs`. The test at
//! the bottom runs the `hyper_server` example's code and fetches from it (`cargo test` runs it).

#[path = "hyper_on_evloop.rs"]
mod hyper_on_evloop;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());
    let address = address.parse()?;
    let paths: Vec<String> = args.collect();
    let paths: Vec<&str> = if paths.is_empty() {
        vec!["/"]
    } else {
        paths.iter().map(String::as_str).collect()
    };
    evloop::run(async move {
        for (status, body) in hyper_on_evloop::fetch(address, &paths).await? {
            print!("{status} {body}");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::hyper_on_evloop::{fetch, serve};

    #[test]
    fn hyper_client_fetches_from_hyper_server_over_loopback() {
        evloop::run(async {
            let listener = evloop::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let server = evloop::spawn(serve(listener));
            let paths = ["/", "/second", "/third?x=1"];
            let responses = fetch(address, &paths).await.unwrap();
            for ((status, body), path) in responses.into_iter().zip(paths) {
                assert_eq!(status, 200);
                assert_eq!(body, format!("hello from hyper on evloop: GET {path}\n"));
            }
            server.abort();
        });
    }
}

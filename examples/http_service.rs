//! The HTTP/1.1 keep-alive connection handler shared by the `http_hello` and `multicore_http`
//! examples: it reads requests up to the blank line that ends the headers (requests with bodies
//! are refused with 413: this is a hello-world), answers each, and keeps the connection open
//! unless the client asks to close it or speaks HTTP/1.0.

use evloop::net::TcpStream;

const BODY: &str = "Hello, world!\n";
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Serves one connection, request after request, until the client closes it.
pub async fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0; 4096];
    loop {
        // Read until a full request head is buffered.
        let head_end = loop {
            if let Some(end) = find_head_end(&buffer) {
                break end;
            }
            if buffer.len() > MAX_HEADER_BYTES {
                stream.write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await?;
                return Ok(());
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(()); // closed between requests
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let keep_alive = !head.contains("connection: close") && !head.starts_with("get / http/1.0");
        let has_body = head.contains("content-length:") || head.contains("transfer-encoding:");
        buffer.drain(..head_end + 4);
        if has_body {
            stream.write_all(b"HTTP/1.1 413 Content Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await?;
            return Ok(());
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: {}\r\n\r\n{BODY}",
            BODY.len(),
            if keep_alive { "keep-alive" } else { "close" },
        );
        stream.write_all(response.as_bytes()).await?;
        if !keep_alive {
            return Ok(());
        }
    }
}

fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|window| window == b"\r\n\r\n")
}

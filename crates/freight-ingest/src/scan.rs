//! A JSON field scanner for log lines: reads the handful of fields a report needs and skips
//! everything else (message text, tool inputs and results) at memchr speed, without building a
//! tree. Skipped values are checked for balance and termination, not fully validated.

use crate::quotes::{self, BLOCK};
use std::borrow::Cow;

/// What was wrong with a line, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub offset: usize,
    pub problem: &'static str,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.problem, self.offset)
    }
}

pub type ScanResult<T> = Result<T, ScanError>;

/// Nesting deeper than this is refused rather than followed.
const MAX_DEPTH: usize = 512;

/// A cursor over one JSON value (usually one log line).
pub struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The 64-byte block whose quote and backslash masks are below (`usize::MAX`: none yet).
    mask_block: usize,
    quotes: u64,
    backslashes: u64,
}

impl<'a> Scanner<'a> {
    pub fn new(bytes: &'a [u8]) -> Scanner<'a> {
        Scanner { bytes, pos: 0, mask_block: usize::MAX, quotes: 0, backslashes: 0 }
    }

    /// The quote and backslash masks of block `block` (bytes past the end count as neither).
    fn masks(&mut self, block: usize) -> (u64, u64) {
        if block != self.mask_block {
            let start = block * BLOCK;
            (self.quotes, self.backslashes) = match self.bytes.get(start..start + BLOCK) {
                Some(whole) => quotes::masks(whole.try_into().unwrap_or(&[0; BLOCK])),
                None => {
                    let mut padded = [0u8; BLOCK];
                    let tail = self.bytes.get(start..).unwrap_or_default();
                    padded[..tail.len()].copy_from_slice(tail);
                    quotes::masks(&padded)
                }
            };
            self.mask_block = block;
        }
        (self.quotes, self.backslashes)
    }

    fn error<T>(&self, problem: &'static str) -> ScanResult<T> {
        Err(ScanError { offset: self.pos, problem })
    }

    fn skip_whitespace(&mut self) {
        while let Some(&byte) = self.bytes.get(self.pos) {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    /// The cursor's byte offset in the line.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The line being scanned.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Moves the cursor forward to `position` (bytes already checked some other way).
    pub fn skip_to(&mut self, position: usize) {
        self.pos = self.pos.max(position).min(self.bytes.len());
    }

    /// Moves the cursor back to an earlier `position`, to read a value again another way.
    pub fn rewind(&mut self, position: usize) {
        self.pos = self.pos.min(position);
    }

    /// Whether the next value is the string `text` exactly as written (no escapes); the value
    /// is consumed whatever it is.
    pub fn is_string(&mut self, text: &[u8]) -> ScanResult<bool> {
        if self.peek()? != b'"' {
            return self.skip().map(|()| false);
        }
        let rest = &self.bytes[self.pos + 1..];
        let exact = rest.get(..text.len()) == Some(text) && rest.get(text.len()) == Some(&b'"');
        self.skip().map(|()| exact)
    }

    /// The next non-whitespace byte, not consumed.
    pub fn peek(&mut self) -> ScanResult<u8> {
        self.skip_whitespace();
        match self.bytes.get(self.pos) {
            Some(&byte) => Ok(byte),
            None => self.error("unexpected end of line"),
        }
    }

    fn expect(&mut self, wanted: u8, problem: &'static str) -> ScanResult<()> {
        if self.peek()? == wanted {
            self.pos += 1;
            Ok(())
        } else {
            self.error(problem)
        }
    }

    /// After the top-level value: only whitespace may follow.
    pub fn finish(&mut self) -> ScanResult<()> {
        self.skip_whitespace();
        if self.pos == self.bytes.len() { Ok(()) } else { self.error("trailing characters after the JSON value") }
    }

    /// Visits each key of an object; the visitor must consume the key's value (read or skip).
    pub fn object(&mut self, mut visit: impl FnMut(&mut Self, &[u8]) -> ScanResult<()>) -> ScanResult<()> {
        self.expect(b'{', "expected an object")?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return self.error("expected a key");
            }
            let (key, _) = self.raw_string()?;
            self.expect(b':', "expected ':' after a key")?;
            visit(self, key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.error("expected ',' or '}' in an object"),
            }
        }
    }

    /// Visits each element of an array; the visitor must consume the element.
    pub fn array(&mut self, mut visit: impl FnMut(&mut Self) -> ScanResult<()>) -> ScanResult<()> {
        self.expect(b'[', "expected an array")?;
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            visit(self)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.error("expected ',' or ']' in an array"),
            }
        }
    }

    /// True (and consumed) when the next value is `null`.
    pub fn null(&mut self) -> ScanResult<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> ScanResult<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.error("invalid literal")
        }
    }

    /// The bytes between the quotes of a string, escapes left in, and whether it has any; the
    /// cursor moves past it.
    fn raw_string(&mut self) -> ScanResult<(&'a [u8], bool)> {
        self.expect(b'"', "expected a string")?;
        let start = self.pos;
        let mut escaped = false;
        let mut at = start;
        while at < self.bytes.len() {
            let (quotes, backslashes) = self.masks(at / BLOCK);
            let shift = at % BLOCK;
            let (quotes, backslashes) = (quotes >> shift, backslashes >> shift);
            let stops = quotes | backslashes;
            if stops == 0 {
                at += BLOCK - shift;
                continue;
            }
            let offset = stops.trailing_zeros();
            at += offset as usize;
            if quotes >> offset & 1 == 1 {
                self.pos = at + 1;
                return Ok((&self.bytes[start..at], escaped));
            }
            // A backslash: the byte after it is escaped, whatever it is.
            escaped = true;
            at += 2;
        }
        self.pos = self.bytes.len();
        self.error("unterminated string")
    }

    /// A string value, or `None` for `null`.
    pub fn string(&mut self) -> ScanResult<Option<Cow<'a, str>>> {
        if self.null()? {
            return Ok(None);
        }
        if self.peek()? != b'"' {
            return self.error("expected a string");
        }
        let quote = self.pos;
        let (raw, escaped) = self.raw_string()?;
        if escaped {
            return match serde_json::from_slice::<String>(&self.bytes[quote..self.pos]) {
                Ok(text) => Ok(Some(Cow::Owned(text))),
                Err(_) => Err(ScanError { offset: quote, problem: "invalid escape in a string" }),
            };
        }
        match std::str::from_utf8(raw) {
            Ok(text) => Ok(Some(Cow::Borrowed(text))),
            Err(_) => Err(ScanError { offset: quote, problem: "string is not UTF-8" }),
        }
    }

    fn number_text(&mut self) -> ScanResult<&'a str> {
        self.skip_whitespace();
        let start = self.pos;
        while let Some(&byte) = self.bytes.get(self.pos) {
            if !matches!(byte, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                break;
            }
            self.pos += 1;
        }
        if start == self.pos {
            return self.error("expected a number");
        }
        // Only ASCII was accepted above.
        std::str::from_utf8(&self.bytes[start..self.pos]).or_else(|_| self.error("expected a number"))
    }

    /// A non-negative integer (a token count), or `None` for `null`. A count written as a
    /// float with no fraction (`12.0`) is accepted; a negative or fractional one is an error.
    pub fn count(&mut self) -> ScanResult<Option<u64>> {
        if self.null()? {
            return Ok(None);
        }
        let start = self.pos;
        // Counts are plain digits: read them here; anything else goes the long way.
        let (mut value, mut at) = (0u64, start);
        while let Some(&byte) = self.bytes.get(at)
            && byte.is_ascii_digit()
            && at - start < 19
        {
            value = value * 10 + u64::from(byte - b'0');
            at += 1;
        }
        if at > start && !matches!(self.bytes.get(at), Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')) {
            self.pos = at;
            return Ok(Some(value));
        }
        let text = self.number_text()?;
        if let Ok(value) = text.parse::<u64>() {
            return Ok(Some(value));
        }
        match text.parse::<f64>() {
            Ok(value) if value >= 0.0 && value.fract() == 0.0 && value < 1e19 => Ok(Some(value as u64)),
            _ => Err(ScanError { offset: start, problem: "token count is not a non-negative integer" }),
        }
    }

    /// A number, or `None` for `null`.
    pub fn float(&mut self) -> ScanResult<Option<f64>> {
        if self.null()? {
            return Ok(None);
        }
        let start = self.pos;
        let text = self.number_text()?;
        text.parse::<f64>().map(Some).map_err(|_| ScanError { offset: start, problem: "invalid number" })
    }

    /// A boolean, or `None` for `null`.
    pub fn boolean(&mut self) -> ScanResult<Option<bool>> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| Some(true)),
            b'f' => self.literal(b"false").map(|()| Some(false)),
            b'n' => self.literal(b"null").map(|()| None),
            _ => self.error("expected a boolean"),
        }
    }

    /// Skips one value of any kind, checking that brackets balance and strings end.
    pub fn skip(&mut self) -> ScanResult<()> {
        match self.peek()? {
            b'"' => self.raw_string().map(drop),
            b'{' | b'[' => self.skip_nested(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number_text().map(drop),
        }
    }

    fn skip_nested(&mut self) -> ScanResult<()> {
        let mut stack: Vec<u8> = Vec::new();
        while let Some(&byte) = self.bytes.get(self.pos) {
            match byte {
                b'"' => {
                    self.raw_string()?;
                    continue;
                }
                b'{' | b'[' => {
                    if stack.len() == MAX_DEPTH {
                        return self.error("nesting too deep");
                    }
                    stack.push(if byte == b'{' { b'}' } else { b']' });
                }
                b'}' | b']' => {
                    if stack.pop() != Some(byte) {
                        return self.error("mismatched bracket");
                    }
                    if stack.is_empty() {
                        self.pos += 1;
                        return Ok(());
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        self.error("unexpected end of line inside an object or array")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wanted_fields_and_skips_the_rest() {
        let line = br#"{"a":{"deep":[1,{"x":"y\"}"}],"s":"q"},"id":"m\u0031","n":12,"f":1.5,"b":true,"z":null}"#;
        let mut scanner = Scanner::new(line);
        let (mut id, mut n, mut f, mut b) = (None, None, None, None);
        scanner
            .object(|s, key| match key {
                b"id" => s.string().map(|v| id = v.map(|c| c.into_owned())),
                b"n" => s.count().map(|v| n = v),
                b"f" => s.float().map(|v| f = v),
                b"b" => s.boolean().map(|v| b = v),
                _ => s.skip(),
            })
            .expect("scans");
        scanner.finish().expect("nothing after");
        assert_eq!(id.as_deref(), Some("m1"));
        assert_eq!((n, f, b), (Some(12), Some(1.5), Some(true)));
    }

    #[test]
    fn strings_of_every_length_end_at_their_closing_quote() {
        for length in 0..100usize {
            for escape_at in [None, Some(0), Some(length / 2), Some(length.saturating_sub(1))] {
                let mut text: String = (0..length).map(|i| (b'a' + (i % 26) as u8) as char).collect();
                if let Some(at) = escape_at.filter(|&at| at < length) {
                    text.replace_range(at..=at, "\\\"");
                }
                let line = format!(r#"{{"k":"{text}","n":1}}"#);
                let mut scanner = Scanner::new(line.as_bytes());
                let (mut read, mut n) = (None, None);
                scanner
                    .object(|s, key| match key {
                        b"k" => s.string().map(|v| read = v.map(|c| c.into_owned())),
                        _ => s.count().map(|v| n = v),
                    })
                    .expect("scans");
                let expected: String = serde_json::from_str(&format!(r#""{text}""#)).expect("json");
                assert_eq!((read.as_deref(), n), (Some(expected.as_str()), Some(1)), "{line}");
            }
        }
    }

    #[test]
    fn exact_strings_are_recognised_and_a_value_can_be_read_again() {
        let line = br#"{"a":"tool_use","b": "tool_user","c":"tool\u005fuse","d":7}"#;
        let mut scanner = Scanner::new(line);
        let mut seen = Vec::new();
        scanner.object(|s, _| s.is_string(b"tool_use").map(|exact| seen.push(exact))).expect("scans");
        assert_eq!(seen, [true, false, false, false]);
        let mut scanner = Scanner::new(br#"[1,{"x":2}]"#);
        scanner.array(|s| s.skip()).expect("scans");
        scanner.rewind(0);
        assert_eq!(scanner.position(), 0);
        scanner.skip().expect("skips again");
        scanner.finish().expect("nothing after");
    }

    #[test]
    fn counts_read_as_written() {
        let read = |text: &str| Scanner::new(text.as_bytes()).count();
        assert_eq!(read("0"), Ok(Some(0)));
        assert_eq!(read("007"), Ok(Some(7)));
        assert_eq!(read("1234567890123456789"), Ok(Some(1_234_567_890_123_456_789)));
        assert_eq!(read("18446744073709551615"), Ok(Some(u64::MAX)));
        assert_eq!(read("12.0"), Ok(Some(12)));
        assert_eq!(read("1e3"), Ok(Some(1000)));
        assert_eq!(read("null"), Ok(None));
        for bad in ["18446744073709551616", "-3", "1.5", "x"] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn truncated_and_broken_lines_are_errors() {
        // The backslash ones were found by the fuzzer (they panicked: the escape skipped past the end).
        for line in [
            &br#"{"a":"unterminated"#[..],
            br#"{"a":[1,2}"#,
            br#"{"a":1"#,
            br#"{"a":1}x"#,
            b"",
            br#"{"n":-3}"#,
            br#"{"a":"x\"#,
            br#"{"a":"0123456789012345678901234567890123456789012345678901234567890123456789\"#,
            br#"{"a":["x\"#,
        ] {
            let mut scanner = Scanner::new(line);
            let result = scanner
                .object(|s, key| if key == b"n" { s.count().map(drop) } else { s.skip() })
                .and_then(|()| scanner.finish());
            assert!(result.is_err(), "{:?} should fail", String::from_utf8_lossy(line));
        }
    }
}

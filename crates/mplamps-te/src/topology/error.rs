//! Errors in a topology file: each names the file, line, column, field and what was expected.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyError {
    pub file: String,
    /// 1-based; 0 when the error is not tied to a place in the file (e.g. it cannot be read).
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The key the error is about, e.g. `available` or `router.linecard.ports`.
    pub field: String,
    pub message: String,
}

impl TopologyError {
    /// An error at byte range `span` of `text`.
    pub fn at(file: &str, text: &str, span: Range<usize>, field: &str, message: String) -> Self {
        let (line, column) = line_and_column(text, span.start);
        TopologyError {
            file: file.to_string(),
            line,
            column,
            field: field.to_string(),
            message,
        }
    }

    pub fn io(file: &str, err: &std::io::Error) -> Self {
        TopologyError {
            file: file.to_string(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read the file: {err}"),
        }
    }

    /// Converts a TOML syntax or type error, finding the key it is about from the text.
    pub fn from_toml(file: &str, text: &str, err: &toml::de::Error) -> Self {
        let span = err.span().unwrap_or(0..0);
        let message = plain_words(err.message().trim());
        let field = key_before(text, span.start)
            .or_else(|| backticked(&message))
            .unwrap_or_default();
        TopologyError::at(file, text, span, &field, message)
    }
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file, self.message);
        }
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for TopologyError {}

/// Every error found in one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyErrors(pub Vec<TopologyError>);

impl TopologyErrors {
    pub fn single(err: TopologyError) -> Self {
        TopologyErrors(vec![err])
    }

    /// Every error of a TOML file that `T` cannot read (its syntax error, or all its type
    /// errors in file order), with `first`, the error serde gave, when none other is found.
    pub fn from_toml_failure<T: serde::de::DeserializeOwned>(
        file: &str,
        text: &str,
        first: &toml::de::Error,
    ) -> Self {
        let all = super::every_error::type_errors::<T>(text);
        let all = if all.is_empty() {
            vec![TopologyError::from_toml(file, text, first)]
        } else {
            all.iter()
                .map(|e| TopologyError::from_toml(file, text, e))
                .collect()
        };
        TopologyErrors(all)
    }

    pub fn first(&self) -> Option<&TopologyError> {
        self.0.first()
    }
}

impl fmt::Display for TopologyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TopologyErrors {}

/// A serde message in a network engineer's words, not Rust's: "expected f64" is "expected
/// a number", a sequence is a list, a map or struct a table.
pub(crate) fn plain_words(message: &str) -> String {
    const WHOLE: [&str; 10] = [
        "i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128",
    ];
    let mut out = message.replace(" as i128", "").replace(" as u128", "");
    out = out.replace("floating point `", "number `");
    for t in ["f64", "f32"] {
        out = out.replace(&format!("expected {t}"), "expected a number");
    }
    for t in WHOLE.iter().chain(&["usize", "isize"]) {
        out = out.replace(&format!("expected {t}"), "expected a whole number");
    }
    out = out
        .replace("expected a sequence", "expected a list [...]")
        .replace("expected a map", "expected a table");
    while let Some(at) = out.find("expected struct ") {
        let name_end = out[at + "expected struct ".len()..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(out.len(), |i| at + "expected struct ".len() + i);
        out.replace_range(at..name_end, "expected a table");
    }
    out
}

/// The 1-based line of byte `offset` of `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    line_and_column(text, offset).0
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The key of the `key = value` pair at byte `offset`: the key itself when the error points
/// at a key (unknown field), else the nearest key before `=` to the left (a bad value).
fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text
        .get(offset..)?
        .find('\n')
        .map_or(text.len(), |i| offset + i);
    let head = text.get(line_start..offset)?;
    let rest = text.get(offset..line_end)?;
    if let Some(eq) = rest.find('=') {
        let key = rest.get(..eq)?.trim().trim_matches('"');
        if !key.is_empty() && key.chars().all(is_key_char) {
            return Some(key.to_string());
        }
    }
    let eq = head.rfind('=')?;
    let before = head.get(..eq)?.trim_end().trim_end_matches('"');
    let start = before.rfind(|c: char| !is_key_char(c)).map_or(0, |i| i + 1);
    let key = before.get(start..)?;
    (!key.is_empty()).then(|| key.to_string())
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The field named in serde's "unknown field `x`" and "missing field `x`" messages.
fn backticked(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let len = message.get(start..)?.find('`')?;
    message.get(start..start + len).map(str::to_string)
}

#[cfg(test)]
mod plain_words_tests {
    use super::plain_words;

    #[test]
    fn rust_types_become_words() {
        assert_eq!(
            plain_words("invalid type: boolean `true`, expected f64"),
            "invalid type: boolean `true`, expected a number"
        );
        assert_eq!(
            plain_words("invalid type: floating point `1.5`, expected i64"),
            "invalid type: number `1.5`, expected a whole number"
        );
        assert_eq!(
            plain_words("invalid type: integer `99999999999999999999` as i128, expected u32"),
            "invalid type: integer `99999999999999999999`, expected a whole number"
        );
        assert_eq!(
            plain_words("invalid type: integer `5`, expected a sequence"),
            "invalid type: integer `5`, expected a list [...]"
        );
        assert_eq!(
            plain_words("invalid type: string \"x\", expected struct RawRouter"),
            "invalid type: string \"x\", expected a table"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(line_and_column(text, 11), (2, 6));
        assert_eq!(line_and_column(text, 999), (3, 1));
    }

    #[test]
    fn key_is_found_from_value_or_key() {
        let text = "name = \"x\"\nprofile = { shape = \"linear\", idle_w = -1 }\n";
        let value = text.find("-1").unwrap();
        assert_eq!(key_before(text, value).as_deref(), Some("idle_w"));
        assert_eq!(key_before(text, 0).as_deref(), Some("name"));
        assert_eq!(key_before("[[router]]\n", 0), None);
    }
}

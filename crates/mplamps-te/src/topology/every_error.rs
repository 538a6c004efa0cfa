//! Every type error of a TOML file, not only the first. Serde stops at the first value of
//! the wrong type; to find the next one, the offending entry is taken out of the parsed
//! document and the document deserialized again, until it deserializes or the errors
//! reach a limit. Only used once a file has failed: a good file is read in one pass.

use std::ops::Range;

use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

/// Errors reported at most for one file; a file with more is mostly not a topology file.
pub const MAX_TYPE_ERRORS: usize = 50;

/// Every error deserializing `text` as `T` gives, in file order: its syntax error alone
/// when it is not TOML, else its type errors up to `MAX_TYPE_ERRORS`. Empty when `T`
/// reads it.
pub fn type_errors<T: DeserializeOwned>(text: &str) -> Vec<toml::de::Error> {
    let mut doc = match DeTable::parse(text) {
        Ok(table) => {
            let span = table.span();
            Spanned::new(span, DeValue::Table(table.into_inner()))
        }
        Err(syntax) => return vec![syntax],
    };
    let mut errors: Vec<toml::de::Error> = Vec::new();
    // Keys taken out of a table: (the table's span, the key). A "missing field" error for
    // one of them is the echo of an error already reported, not a new one.
    let mut removed: Vec<(Range<usize>, String)> = Vec::new();
    while errors.len() < MAX_TYPE_ERRORS {
        let Err(error) = T::deserialize(doc.clone().into_deserializer()) else {
            break;
        };
        let Some(at) = error.span() else {
            errors.push(error);
            break;
        };
        let echo = removed.iter().any(|(table, key)| {
            *table == at && error.message().contains(&format!("missing field `{key}`"))
        });
        let repeated = errors
            .last()
            .is_some_and(|e| e.span() == error.span() && e.message() == error.message());
        if repeated {
            break;
        }
        if !echo {
            errors.push(error);
        }
        match take_out(&mut doc, &at) {
            Some(taken) => removed.push(taken),
            None => break,
        }
    }
    errors.sort_by_key(|e| e.span().map_or(0, |s| s.start));
    errors
}

/// Takes out of `value` the innermost table entry or array element an error at `at` is
/// about: the one whose span holds its start, else the last one that starts before it; a
/// table or array the error spans exactly (a missing field) goes whole. Returns the span
/// of the table it was in and its key (empty for an array element); `None` when `value`
/// is a plain value (its parent takes it out).
fn take_out(value: &mut Spanned<DeValue<'_>>, at: &Range<usize>) -> Option<(Range<usize>, String)> {
    let span = value.span();
    match value.get_mut() {
        DeValue::Table(table) => take_from_table(table, span, at),
        DeValue::Array(array) => {
            let index = pick(array.iter().map(|v| v.span()), at.start)?;
            let inner = array
                .get_mut(index)
                .filter(|v| v.span() != *at)
                .and_then(|v| take_out(v, at));
            if inner.is_some() {
                return inner;
            }
            let mut kept = DeArray::new();
            for (i, v) in array.iter().enumerate() {
                if i != index {
                    kept.push(v.clone());
                }
            }
            *array = kept;
            Some((span, String::new()))
        }
        _ => None,
    }
}

fn take_from_table(
    table: &mut DeTable<'_>,
    span: Range<usize>,
    at: &Range<usize>,
) -> Option<(Range<usize>, String)> {
    let spans: Vec<Range<usize>> = table
        .iter()
        .map(|(k, v)| {
            let (k, v) = (k.span(), v.span());
            k.start.min(v.start)..k.end.max(v.end)
        })
        .collect();
    let index = pick(spans.into_iter(), at.start)?;
    let (key, value) = table.iter_mut().nth(index)?;
    let key = key.get_ref().to_string();
    if value.span() != *at
        && let Some(taken) = take_out(value, at)
    {
        return Some(taken);
    }
    for (k, v) in std::mem::take(table) {
        if k.get_ref() != &key {
            table.insert(k, v);
        }
    }
    Some((span, key))
}

/// The span that holds `at`, else the last one starting before it.
fn pick(spans: impl Iterator<Item = Range<usize>>, at: usize) -> Option<usize> {
    let spans: Vec<Range<usize>> = spans.collect();
    spans.iter().position(|s| s.contains(&at)).or_else(|| {
        spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.start <= at)
            .max_by_key(|(_, s)| s.start)
            .map(|(i, _)| i)
    })
}

//! The zonecfg lexer and value grammar: commands split at unquoted `;` and newlines,
//! double-quoted strings without escapes, `=`, `[…]` lists and `(k=v,…)` complex values.

use super::messages as msg;
use super::model::Item;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Token {
    Word(String),
    Quoted(String),
    Eq,
    Open(char),
    Close(char),
    Comma,
}

impl Token {
    pub(super) fn text(&self) -> String {
        match self {
            Token::Word(w) | Token::Quoted(w) => w.clone(),
            Token::Eq => "=".into(),
            Token::Open(c) | Token::Close(c) => c.to_string(),
            Token::Comma => ",".into(),
        }
    }

    pub(super) fn word(&self) -> Option<&str> {
        match self {
            Token::Word(w) | Token::Quoted(w) => Some(w),
            _ => None,
        }
    }
}

/// A command: its 1-based line and its tokens, or a lexing error.
pub(super) type Lexed = (usize, Result<Vec<Token>, String>);

/// Splits input into commands at unquoted `;` and newlines. A quote left open at the end of
/// a line is a syntax error for that command (zonecfg strings cannot span lines).
pub(super) fn lex(text: &str) -> Vec<Lexed> {
    let mut commands = Vec::new();
    let (mut tokens, mut word, mut line, mut start_line) = (Vec::new(), String::new(), 1usize, 1usize);
    let mut chars = text.chars().peekable();
    let mut broken: Option<String> = None;
    pub(super) fn flush(word: &mut String, tokens: &mut Vec<Token>) {
        if !word.is_empty() {
            tokens.push(Token::Word(std::mem::take(word)));
        }
    }
    let finish = |tokens: &mut Vec<Token>, broken: &mut Option<String>, commands: &mut Vec<Lexed>, at: usize| {
        if let Some(error) = broken.take() {
            commands.push((at, Err(error)));
            tokens.clear();
        } else if !tokens.is_empty() {
            commands.push((at, Ok(std::mem::take(tokens))));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\n' | ';' => {
                flush(&mut word, &mut tokens);
                finish(&mut tokens, &mut broken, &mut commands, start_line);
                if c == '\n' {
                    line += 1;
                }
                start_line = line;
            }
            '#' if word.is_empty() => {
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            '"' => {
                flush(&mut word, &mut tokens);
                let mut quoted = String::new();
                let mut closed = false;
                while let Some(&n) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    chars.next();
                    if n == '"' {
                        closed = true;
                        break;
                    }
                    quoted.push(n);
                }
                if closed {
                    tokens.push(Token::Quoted(quoted));
                } else if broken.is_none() {
                    broken = Some(msg::zonecfg_syntax_error(&format!("\"{quoted}")));
                }
            }
            '=' | '(' | ')' | '[' | ']' | ',' => {
                flush(&mut word, &mut tokens);
                tokens.push(match c {
                    '=' => Token::Eq,
                    '(' | '[' => Token::Open(c),
                    ')' | ']' => Token::Close(c),
                    _ => Token::Comma,
                });
            }
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    finish(&mut tokens, &mut broken, &mut commands, start_line);
    commands
}

/// A property value: `x`, `"x y"`, `[a,b]` or `(k=v,…)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Value {
    Simple(String),
    List(Vec<Item>),
    Complex(Vec<(String, String)>),
}

/// Parses one value from the start of `tokens`; returns it and the tokens consumed.
pub(super) fn parse_value(tokens: &[Token]) -> Result<(Value, usize), String> {
    let syntax = |at: usize| msg::zonecfg_syntax_error(&tokens.get(at).map_or("end of line".into(), Token::text));
    match tokens.first() {
        Some(Token::Word(w) | Token::Quoted(w)) => Ok((Value::Simple(w.clone()), 1)),
        Some(Token::Open('(')) => {
            let (pairs, used) = parse_complex(tokens)?;
            Ok((Value::Complex(pairs), used))
        }
        Some(Token::Open('[')) => {
            let mut items = Vec::new();
            let mut at = 1;
            loop {
                match tokens.get(at) {
                    Some(Token::Close(']')) if items.is_empty() => return Ok((Value::List(items), at + 1)),
                    Some(Token::Word(w) | Token::Quoted(w)) => {
                        items.push(Item::Simple(w.clone()));
                        at += 1;
                    }
                    Some(Token::Open('(')) => {
                        let (pairs, used) = parse_complex(&tokens[at..])?;
                        items.push(Item::Complex(pairs));
                        at += used;
                    }
                    _ => return Err(syntax(at)),
                }
                match tokens.get(at) {
                    Some(Token::Comma) => at += 1,
                    Some(Token::Close(']')) => return Ok((Value::List(items), at + 1)),
                    _ => return Err(syntax(at)),
                }
            }
        }
        _ => Err(syntax(0)),
    }
}

pub(super) fn parse_complex(tokens: &[Token]) -> Result<(Vec<(String, String)>, usize), String> {
    let syntax = |at: usize| msg::zonecfg_syntax_error(&tokens.get(at).map_or("end of line".into(), Token::text));
    let mut pairs = Vec::new();
    let mut at = 1;
    loop {
        let key = tokens.get(at).and_then(Token::word).ok_or_else(|| syntax(at))?;
        if tokens.get(at + 1) != Some(&Token::Eq) {
            return Err(syntax(at + 1));
        }
        let value = tokens.get(at + 2).and_then(Token::word).ok_or_else(|| syntax(at + 2))?;
        pairs.push((key.to_string(), value.to_string()));
        at += 3;
        match tokens.get(at) {
            Some(Token::Comma) => at += 1,
            Some(Token::Close(')')) => return Ok((pairs, at + 1)),
            _ => return Err(syntax(at)),
        }
    }
}

pub(super) fn value_items(value: Value) -> Vec<Item> {
    match value {
        Value::Simple(s) => vec![Item::Simple(s)],
        Value::List(items) => items,
        Value::Complex(pairs) => vec![Item::Complex(pairs)],
    }
}

/// `PROP = VALUE` with nothing after it.
pub(super) fn property_assignment(args: &[Token]) -> Result<(String, Value), String> {
    let property = args.first().and_then(Token::word).ok_or_else(|| msg::zonecfg_syntax_error("set"))?;
    if args.get(1) != Some(&Token::Eq) {
        return Err(msg::zonecfg_syntax_error(&args.get(1).map_or("end of line".into(), Token::text)));
    }
    let (value, used) = parse_value(&args[2..])?;
    if let Some(extra) = args.get(2 + used) {
        return Err(msg::zonecfg_syntax_error(&extra.text()));
    }
    Ok((property.to_string(), value))
}

/// `prop=value …` filters of `select`, `remove` and `info`.
pub(super) fn parse_filters(args: &[Token]) -> Result<Vec<(String, String)>, String> {
    let mut filters = Vec::new();
    let mut at = 0;
    while at < args.len() {
        let key = args[at].word().ok_or_else(|| msg::zonecfg_syntax_error(&args[at].text()))?;
        if args.get(at + 1) != Some(&Token::Eq) {
            return Err(msg::zonecfg_syntax_error(key));
        }
        let value = args.get(at + 2).and_then(Token::word).ok_or_else(|| msg::zonecfg_syntax_error(key))?;
        filters.push((key.to_string(), value.to_string()));
        at += 3;
    }
    Ok(filters)
}

//! A log as Greenroom shows it: split into numbered lines, a page at a
//! time, each line's ANSI colours read with `anstyle-parse` into styled
//! pieces of plain text (every other escape dropped), and anything secret
//! masked. Masking works on a line's whole plain text: when it changes
//! anything, the line is shown masked and without its colours, so that an
//! escape in the middle of a token cannot keep part of it visible.

use crate::mask::Known;
use anstyle_parse::{Params, Parser, Perform};

/// Lines shown per page.
pub const LINES_PER_PAGE: usize = 500;
/// Longer lines are cut (a minified bundle in a log is one huge line).
pub const MAX_LINE_CHARS: usize = 4_000;

/// How a piece of a line looks: an ANSI colour (0–15: the eight colours,
/// then their bright forms) and attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub colour: Option<u8>,
    pub bold: bool,
    pub faint: bool,
    pub italic: bool,
    pub underline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub style: Style,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based, as in the file.
    pub number: usize,
    pub pieces: Vec<Piece>,
    /// Something secret was masked in it.
    pub masked: bool,
    /// It was longer than [`MAX_LINE_CHARS`] and was cut.
    pub cut: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    pub lines: Vec<Line>,
    /// 1-based; clamped to the pages there are.
    pub page: usize,
    pub pages: usize,
    pub total_lines: usize,
}

/// Page `page` (1-based) of `text`, masked with `known` and the token rules.
pub fn page(text: &str, known: &Known, page: usize) -> LogPage {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let total_lines = if text.is_empty() {
        0
    } else {
        text.split('\n').count()
    };
    let pages = total_lines.div_ceil(LINES_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let first = (page - 1) * LINES_PER_PAGE;
    let lines = text
        .split('\n')
        .enumerate()
        .skip(first)
        .take(LINES_PER_PAGE)
        .filter(|_| total_lines > 0)
        .map(|(i, raw)| line(i + 1, raw.strip_suffix('\r').unwrap_or(raw), known))
        .collect();
    LogPage {
        lines,
        page,
        pages,
        total_lines,
    }
}

fn line(number: usize, raw: &str, known: &Known) -> Line {
    // The whole line is masked before anything is cut: a value straddling
    // the cut is masked whole.
    let pieces = styled(raw);
    let plain: String = pieces.iter().map(|p| p.text.as_str()).collect();
    let masked = known.mask(&plain);
    // Masking turns tabs into spaces; that alone changes nothing secret.
    let (pieces, was_masked) = if masked == plain.replace('\t', " ") {
        (pieces, false)
    } else {
        let whole = Piece {
            style: Style::default(),
            text: masked,
        };
        (vec![whole], true)
    };
    let (pieces, cut) = cut(pieces, MAX_LINE_CHARS);
    Line {
        number,
        pieces,
        masked: was_masked,
        cut,
    }
}

/// At most `max` characters of the pieces, and whether any were dropped.
fn cut(pieces: Vec<Piece>, max: usize) -> (Vec<Piece>, bool) {
    let mut left = max;
    let mut out = Vec::with_capacity(pieces.len());
    for mut p in pieces {
        if left == 0 {
            return (out, true);
        }
        if let Some((at, _)) = p.text.char_indices().nth(left) {
            p.text.truncate(at);
            out.push(p);
            return (out, true);
        }
        left -= p.text.chars().count();
        out.push(p);
    }
    (out, false)
}

/// A line as plain text (escapes dropped), masked: what a download of a
/// log holds, and how a report's texts are shown.
pub fn plain_masked(raw: &str, known: &Known) -> String {
    let plain: String = styled(raw).into_iter().map(|p| p.text).collect();
    known.mask(&plain)
}

/// Every line of `text` through [`plain_masked`], line ends kept.
pub fn text_masked(text: &str, known: &Known) -> String {
    text.split_inclusive('\n')
        .map(|l| {
            let (body, end) = match l.strip_suffix('\n') {
                Some(b) => (b.strip_suffix('\r').unwrap_or(b), "\n"),
                None => (l, ""),
            };
            plain_masked(body, known) + end
        })
        .collect()
}

/// The line's text in styled pieces; escapes other than colours and
/// attributes, and control characters, are dropped.
pub fn styled(raw: &str) -> Vec<Piece> {
    let mut p = Pieces::default();
    let mut parser = Parser::<anstyle_parse::Utf8Parser>::new();
    for b in raw.bytes() {
        parser.advance(&mut p, b);
    }
    p.flush();
    p.pieces
}

#[derive(Default)]
struct Pieces {
    pieces: Vec<Piece>,
    style: Style,
    text: String,
}

impl Pieces {
    fn flush(&mut self) {
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            match self.pieces.last_mut() {
                Some(last) if last.style == self.style => last.text.push_str(&text),
                _ => self.pieces.push(Piece {
                    style: self.style,
                    text,
                }),
            }
        }
    }

    fn sgr(&mut self, params: &Params) {
        let mut codes = params.iter().flat_map(|p| p.iter().copied()).peekable();
        if codes.peek().is_none() {
            self.style = Style::default();
            return;
        }
        while let Some(code) = codes.next() {
            let s = &mut self.style;
            match code {
                0 => *s = Style::default(),
                1 => s.bold = true,
                2 => s.faint = true,
                3 => s.italic = true,
                4 => s.underline = true,
                22 => {
                    s.bold = false;
                    s.faint = false;
                }
                23 => s.italic = false,
                24 => s.underline = false,
                30..=37 => s.colour = Some((code - 30) as u8),
                90..=97 => s.colour = Some((code - 90 + 8) as u8),
                39 => s.colour = None,
                // 256 colours: the first sixteen are the named ones; the
                // rest, and true colour, are shown uncoloured.
                38 => match codes.next() {
                    Some(5) => s.colour = codes.next().filter(|n| *n < 16).map(|n| n as u8),
                    Some(2) => {
                        codes.next();
                        codes.next();
                        codes.next();
                        s.colour = None;
                    }
                    _ => {}
                },
                48 => match codes.next() {
                    Some(5) => {
                        codes.next();
                    }
                    Some(2) => {
                        codes.next();
                        codes.next();
                        codes.next();
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
}

impl Perform for Pieces {
    fn print(&mut self, c: char) {
        self.text.push(c);
    }

    fn execute(&mut self, byte: u8) {
        if byte == b'\t' {
            self.text.push('\t');
        }
    }

    fn csi_dispatch(&mut self, params: &Params, _intermediates: &[u8], ignore: bool, action: u8) {
        if action == b'm' && !ignore {
            self.flush();
            self.sgr(params);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(p: &[Piece]) -> String {
        p.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn colours_and_attributes_become_styles_and_other_escapes_go() {
        let p = styled("\x1b[1;31mFAIL\x1b[0m smoke \x1b[2K\x1b[32m✓\x1b[39m done\x07");
        assert_eq!(plain(&p), "FAIL smoke ✓ done");
        assert_eq!(p[0].text, "FAIL");
        assert_eq!(
            p[0].style,
            Style {
                colour: Some(1),
                bold: true,
                ..Style::default()
            }
        );
        assert_eq!(p[1].style, Style::default());
        assert_eq!(p[2].text, "✓");
        assert_eq!(p[2].style.colour, Some(2));
        assert_eq!(p[3].style.colour, None);
        let bright = styled("\x1b[38;5;9mx\x1b[38;2;1;2;3my\x1b[94mz");
        assert_eq!(
            bright.iter().map(|p| p.style.colour).collect::<Vec<_>>(),
            [Some(9), None, Some(12)]
        );
    }

    #[test]
    fn a_token_is_masked_even_when_escapes_split_it() {
        let known = Known::new(["s3cr3t-value-42".to_string()]);
        let log = "ok line\nusing \x1b[1mghp_\x1b[0mABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\nkey s3cr3t-value-42 set\n";
        let page = page(log, &known, 1);
        assert_eq!(page.total_lines, 3);
        assert!(!page.lines[0].masked);
        for l in &page.lines[1..] {
            assert!(l.masked, "{l:?}");
            let text = plain(&l.pieces);
            assert!(
                !text.contains("ABCDEFGHIJ") && !text.contains("s3cr3t"),
                "{text}"
            );
        }
    }

    #[test]
    fn downloads_and_reports_lose_escapes_before_masking() {
        let known = Known::new(["org-1234567".to_string()]);
        let text = "\x1b[32mghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\x1b[0m ok\r\nid \x1b[1morg-1234567\x1b[0m\nlast";
        let out = text_masked(text, &known);
        assert!(
            !out.contains("ABCDEFGHIJ") && !out.contains("org-1234567"),
            "{out}"
        );
        assert!(!out.contains('\u{1b}'), "{out:?}");
        assert_eq!(out.lines().count(), 3);
        assert!(out.ends_with("last"));
    }

    #[test]
    fn a_value_across_the_cut_is_masked_whole() {
        let secret = "s3cr3t-value-that-is-long";
        let known = Known::new([secret.to_string()]);
        let raw = format!("{}{secret}", "x".repeat(MAX_LINE_CHARS - 5));
        let p = page(&raw, &known, 1);
        let text = plain(&p.lines[0].pieces);
        assert!(
            p.lines[0].masked && !text.contains("s3cr3"),
            "{}",
            &text[text.len() - 20..]
        );
    }

    #[test]
    fn pages_are_numbered_and_clamped_and_long_lines_cut() {
        let log: String = (1..=1_201).map(|i| format!("line {i}\n")).collect();
        let known = Known::default();
        let p = page(&log, &known, 3);
        assert_eq!((p.page, p.pages, p.total_lines), (3, 3, 1_201));
        assert_eq!(p.lines.len(), 201);
        assert_eq!(p.lines[0].number, 1_001);
        assert_eq!(page(&log, &known, 99).page, 3);
        assert_eq!(page(&log, &known, 0).page, 1);
        assert_eq!(page("", &known, 1).lines.len(), 0);
        let long = "y".repeat(MAX_LINE_CHARS + 10);
        let p = page(&long, &known, 1);
        assert!(p.lines[0].cut);
        assert_eq!(plain(&p.lines[0].pieces).len(), MAX_LINE_CHARS);
    }
}

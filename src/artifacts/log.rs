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
    let (raw, cut) = match raw.char_indices().nth(MAX_LINE_CHARS) {
        Some((at, _)) => (&raw[..at], true),
        None => (raw, false),
    };
    let pieces = styled(raw);
    let plain: String = pieces.iter().map(|p| p.text.as_str()).collect();
    let masked = known.mask(&plain);
    // Masking turns tabs into spaces; that alone changes nothing secret.
    if masked == plain.replace('\t', " ") {
        return Line {
            number,
            pieces,
            masked: false,
            cut,
        };
    }
    Line {
        number,
        pieces: vec![Piece {
            style: Style::default(),
            text: masked,
        }],
        masked: true,
        cut,
    }
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

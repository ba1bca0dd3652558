//! Reads the spec's Markdown: sections (headings) and the lines a case should cover — rows of
//! tables, quoted messages, and the messages inside example code blocks.

use std::path::Path;

/// One spec file, e.g. `v2.md`.
#[derive(Debug)]
pub struct SpecFile {
    pub name: String,
    pub sections: Vec<Section>,
}

#[derive(Debug)]
pub struct Section {
    /// `§2.1` for numbered headings, else the heading text (the seed's sections).
    pub id: String,
    pub title: String,
    pub line: usize,
    pub items: Vec<Item>,
}

/// A spec line a case should show.
#[derive(Debug)]
pub struct Item {
    pub line: usize,
    /// `row` (a table row) or `message` (a quoted string).
    pub kind: &'static str,
    /// What the report shows.
    pub text: String,
    /// Texts of which one must appear in a case (placeholders like `<name>` or `%q` match
    /// anything).
    pub needles: Vec<String>,
}

/// Backticked spans of a line.
fn backticked(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find('`') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('`') else { break };
        out.push(after[..j].to_string());
        rest = &after[j + 1..];
    }
    out
}

/// A quoted span reads like a message (words, not a token or a path).
fn is_message(s: &str) -> bool {
    // Go expressions and struct literals quoted in the spec are sources, not behaviour.
    const CODE: [&str; 12] = [
        "fmt.", "Msg:", "Err:", ":=", " = ", "()", "//", "{Reason", "rp.", "time.", "json.",
        "Error{",
    ];
    s.len() >= 12
        && s.contains(' ')
        && s.chars().filter(|c| c.is_alphabetic()).count() >= 8
        && !CODE.iter().any(|c| s.contains(c))
}

fn heading(line: &str) -> Option<(String, String)> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    if hashes == 0 || hashes > 4 || !line[hashes..].starts_with(' ') {
        return None;
    }
    let title = line[hashes..].trim().to_string();
    let num: String = title
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let num = num.trim_end_matches('.');
    let id = if !num.is_empty() && num.starts_with(|c: char| c.is_ascii_digit()) {
        format!("§{num}")
    } else {
        title.clone()
    };
    Some((id, title))
}

pub fn parse(name: &str, text: &str) -> SpecFile {
    let mut sections = vec![Section {
        id: "(preamble)".into(),
        title: "(preamble)".into(),
        line: 1,
        items: Vec::new(),
    }];
    let lines: Vec<&str> = text.lines().collect();
    let mut fence: Option<String> = None;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        let n = i + 1;
        if let Some(lang) = line.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(lang.to_string()),
            };
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if let Some(lang) = &fence {
            // Example bodies: the `message` of a JSON example and whole text examples.
            if lang == "js" || lang == "flux" {
                continue;
            }
            if let Some(pos) = line.find("\"message\":") {
                let v = line[pos + 10..].trim().trim_end_matches(['}', ',', ' ']);
                let v = v.trim_matches('"');
                if is_message(v) {
                    section.items.push(Item {
                        line: n,
                        kind: "message",
                        text: v.to_string(),
                        needles: vec![v.to_string()],
                    });
                }
            } else if lang == "text" && is_message(line) {
                section.items.push(Item {
                    line: n,
                    kind: "message",
                    text: line.to_string(),
                    needles: vec![line.to_string()],
                });
            }
            continue;
        }
        if section.title.contains("Conventions and sources") || section.id == "(preamble)" {
            // Where the facts come from, not what a server does.
            if let Some((id, title)) = heading(line) {
                sections.push(Section {
                    id,
                    title,
                    line: n,
                    items: Vec::new(),
                });
            }
            continue;
        }
        if let Some((id, title)) = heading(line) {
            sections.push(Section {
                id,
                title,
                line: n,
                items: Vec::new(),
            });
            continue;
        }
        if line.starts_with('|') {
            let is_separator = line.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '));
            let next_is_separator = lines.get(i + 1).is_some_and(|l| {
                let l = l.trim();
                l.starts_with('|') && l.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
            });
            if is_separator || next_is_separator {
                continue;
            }
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            let first = cells.first().map(|c| c.trim()).unwrap_or("");
            let mut needles: Vec<String> = backticked(line)
                .into_iter()
                .filter(|s| s.trim().len() >= 3)
                .collect();
            if needles.is_empty() {
                let plain = first.trim_matches(|c: char| c == '*' || c == '"' || c == ' ');
                if plain.len() >= 3 {
                    needles.push(plain.to_string());
                }
            }
            if !needles.is_empty() {
                section.items.push(Item {
                    line: n,
                    kind: "row",
                    text: first.to_string(),
                    needles,
                });
            }
            continue;
        }
        for m in backticked(line).into_iter().filter(|m| is_message(m)) {
            section.items.push(Item {
                line: n,
                kind: "message",
                text: m.clone(),
                needles: vec![m],
            });
        }
    }
    SpecFile {
        name: name.to_string(),
        sections,
    }
}

/// The spec files the corpus answers to, in a fixed order.
pub const FILES: [&str; 5] = [
    "v2.md",
    "cloud.md",
    "v3.md",
    "seed-troubleshoot-writes.md",
    "README.md",
];

pub fn load(dir: &Path) -> Result<Vec<SpecFile>, String> {
    let mut out = Vec::new();
    for name in FILES {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {}: {e} (give the spec with --spec DIR)",
                path.display()
            )
        })?;
        out.push(parse(name, &text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_rows_and_messages() {
        let text = "# T\n## 2. Write\n### 2.1 Inputs\n| a | b |\n|---|---|\n| `missing tag key` | `m,=x v=1` |\n- 404 `bucket \"x\" not found` here\n```json\n{\"code\": \"invalid\", \"message\": \"3 out of 3 points rejected\"}\n```\n";
        let f = parse("v2.md", text);
        let ids: Vec<&str> = f.sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["(preamble)", "T", "§2", "§2.1"]);
        let items: Vec<(&str, &str)> = f.sections[3]
            .items
            .iter()
            .map(|i| (i.kind, i.text.as_str()))
            .collect();
        assert_eq!(
            items,
            [
                ("row", "`missing tag key`"),
                ("message", "bucket \"x\" not found"),
                ("message", "3 out of 3 points rejected")
            ]
        );
    }
}

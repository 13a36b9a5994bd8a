//! The data of the ConfigMaps and Secrets the scripts hashes cover, read again from the stream
//! when a pod template uses it.

use super::{Finding, Severity};
use super::{doc_finding, parse};
use crate::policy::rollout_hash::{self, Location, Places};
use crate::stream::objects::objects;
use crate::stream::{RawDoc, source_comment};
use crate::yaml::Node;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// The data texts of the ConfigMaps and Secrets pod templates use, read again from their
/// documents when a hash needs them: the stream is kept anyway, and on large streams the data is
/// most of it. A text one template uses is read when it is hashed and dropped; one that several
/// use (as the first pass counted them) is kept from its first use to its last, so it is read
/// once. A document is read once for all its objects the count expects (the items of a `kind:
/// List` are many objects of one document: reading it again per item would take time growing
/// with the square of its size).
pub(super) struct DataReader<'d, 'a> {
    places: Places,
    docs: &'d [RawDoc<'a>],
    /// Uses by document, then by object of it, as the first pass counted them, until the
    /// document is first read.
    uses: RefCell<HashMap<usize, HashMap<usize, u32>>>,
    /// Texts read and still to be used, with their uses left.
    kept: RefCell<HashMap<Location, (Rc<str>, u32)>>,
    /// Documents read again so far (each costs a parse: the tests count them).
    reads: Cell<usize>,
}

impl<'d, 'a> DataReader<'d, 'a> {
    pub(super) fn new(
        places: Places,
        uses_by_key: &HashMap<(String, String), u32>,
        docs: &'d [RawDoc<'a>],
    ) -> Self {
        let mut uses: HashMap<usize, HashMap<usize, u32>> = HashMap::new();
        for (key, n) in uses_by_key {
            if let Some(at) = places.get(key) {
                *uses
                    .entry(at.document)
                    .or_default()
                    .entry(at.object)
                    .or_default() += n;
            }
        }
        DataReader {
            places,
            docs,
            uses: RefCell::new(uses),
            kept: RefCell::default(),
            reads: Cell::new(0),
        }
    }

    /// The scripts hash of a pod spec; Err when a document it uses cannot be read again.
    pub(super) fn hash(&self, pod_spec: &Node) -> Result<String, Box<Finding>> {
        self.places.hash_with(pod_spec, |at| self.data_text(at))
    }

    /// The data text of the object at `at`, kept while more uses are counted.
    fn data_text(&self, at: Location) -> Result<Rc<str>, Box<Finding>> {
        let mut kept = self.kept.borrow_mut();
        if let Some((text, left)) = kept.get_mut(&at) {
            let text = Rc::clone(text);
            *left -= 1;
            if *left == 0 {
                kept.remove(&at);
            }
            return Ok(text);
        }
        // The objects of this document the count still expects are read with this one. Uses
        // past the count (none are expected) read the document again rather than keep a text.
        let counted = self
            .uses
            .borrow_mut()
            .remove(&at.document)
            .unwrap_or_default();
        let mut wanted: Vec<usize> = counted.keys().copied().collect();
        if !counted.contains_key(&at.object) {
            wanted.push(at.object);
        }
        let mut text = None;
        for (object, data) in self.read(at.document, &wanted)? {
            let mut left = counted.get(&object).copied().unwrap_or(0);
            if object == at.object {
                text = Some(Rc::clone(&data));
                left = left.saturating_sub(1);
            }
            if left > 0 {
                let here = Location {
                    document: at.document,
                    object,
                };
                kept.insert(here, (data, left));
            }
        }
        text.ok_or_else(|| self.read_differently(at.document))
    }

    /// Reads `document` again, as the first pass read it: the data text of each object of it at
    /// a position in `wanted`, with that position.
    fn read(
        &self,
        document: usize,
        wanted: &[usize],
    ) -> Result<Vec<(usize, Rc<str>)>, Box<Finding>> {
        let doc = self
            .docs
            .get(document)
            .ok_or_else(|| self.read_differently(document))?;
        self.reads.set(self.reads.get() + 1);
        let again = parse(doc)?;
        let objs = again
            .as_ref()
            .and_then(|node| objects(node).ok())
            .ok_or_else(|| self.read_differently(document))?;
        wanted
            .iter()
            .map(|&i| match objs.get(i) {
                Some(obj) => Ok((i, Rc::from(rollout_hash::data_text(obj)))),
                None => Err(self.read_differently(document)),
            })
            .collect()
    }

    /// The refusal of a document whose objects are not where the first pass found them.
    fn read_differently(&self, document: usize) -> Box<Finding> {
        match self.docs.get(document) {
            Some(doc) => Box::new(doc_finding(
                doc,
                &source_comment(doc.text).map(str::to_string),
                "internal",
                "the document read differently the second time; refused rather than hashed wrongly"
                    .into(),
            )),
            None => Box::new(Finding::stream(
                format!(
                    "document {} is not in the stream the second time; refused rather than hashed wrongly",
                    document + 1
                ),
                Severity::Error,
                "internal",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::pod::{get, pod_specs};
    use crate::policy::rollout_hash::{ANNOTATION, DataIndex};
    use crate::postrender::{Options, post_render};
    use crate::stream::split;
    use crate::yaml::testing::documents;

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: NAME}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: i\n        envFrom: [{secretRef: {name: creds}}]\n      volumes:\n      - {name: s, configMap: {name: scripts}}\n      - {name: o, configMap: {name: other}}\n";
    const SCRIPTS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: scripts}\ndata:\n  main.py: |\n    import locust\n    print(\"x\")\n  n: 1\n";
    const CREDS: &str =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}\n";

    fn deploy(name: &str) -> String {
        DEPLOY.replace("NAME", name)
    }

    /// The objects of a stream, read as the post-renderer reads them.
    fn read(stream: &str) -> Vec<Node> {
        let docs = split(stream).unwrap();
        docs.iter().filter_map(|d| parse(d).unwrap()).collect()
    }

    /// Each pod template's annotation in `output`, in order.
    fn stamps(output: &str) -> Vec<(String, Node)> {
        let mut out = Vec::new();
        for doc in read(output) {
            for obj in objects(&doc).unwrap() {
                for at in pod_specs(obj).unwrap() {
                    let Some(template) = at.template.and_then(|t| get(obj, &t)) else {
                        continue;
                    };
                    let stamp = template
                        .get_path(&["metadata", "annotations", ANNOTATION])
                        .and_then(Node::as_str)
                        .unwrap_or("none")
                        .to_string();
                    out.push((stamp, template.get_path(&["spec"]).unwrap().clone()));
                }
            }
        }
        out
    }

    /// The stamps read again from the stream are those an index holding every object's data
    /// text gives, wherever the objects stand, however many templates use them.
    #[test]
    fn stamps_from_data_read_again_are_those_of_data_kept() {
        struct Row {
            what: &'static str,
            stream: String,
            /// The pod templates in it.
            templates: usize,
        }
        let rows = [
            Row {
                what: "the data after the template that uses it",
                stream: [deploy("a"), SCRIPTS.into(), CREDS.into()].join("---\n"),
                templates: 1,
            },
            Row {
                what: "one ConfigMap used by three templates, before and after them",
                stream: [deploy("a"), SCRIPTS.into(), deploy("b"), CREDS.into(), deploy("c")]
                    .join("---\n"),
                templates: 3,
            },
            Row {
                what: "objects as the items of a List",
                stream: format!(
                    "apiVersion: v1\nkind: List\nitems:\n- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: other}}, data: {{k: v}}}}\n- {{apiVersion: v1, kind: Secret, metadata: {{name: creds}}, data: {{token: eQ==}}}}\n---\n{}",
                    deploy("a")
                ),
                templates: 1,
            },
            Row {
                what: "the last of two ConfigMaps of one name",
                stream: [
                    SCRIPTS.into(),
                    deploy("a"),
                    SCRIPTS.replace("import locust", "import other"),
                ]
                .join("---\n"),
                templates: 1,
            },
            Row {
                what: "data the fast reader declines (anchors, aliases, tags, folded text)",
                stream: [
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata:\n  a: &x \"q\\tt\"\n  b: *x\n  c: !!str 0755\n  d: >\n    folded\n    text\n".to_string(),
                    deploy("a"),
                ]
                .join("---\n"),
                templates: 1,
            },
        ];
        let mut failed = Vec::new();
        for row in &rows {
            let out = post_render(&row.stream, &Options::default())
                .unwrap()
                .text();
            let mut index = DataIndex::default();
            for doc in read(&row.stream) {
                for obj in objects(&doc).unwrap() {
                    index.record(obj);
                }
            }
            let stamps = stamps(&out);
            if stamps.len() != row.templates {
                failed.push(format!("- {}: {} templates", row.what, stamps.len()));
            }
            for (stamp, spec) in stamps {
                if stamp != index.hash_for(&spec) {
                    failed.push(format!("- {}: {stamp}", row.what));
                }
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// A text several templates use is read once and kept until its last counted use; a
    /// use past the count reads it again.
    #[test]
    fn a_text_is_kept_from_its_first_use_to_its_last() {
        let stream = [SCRIPTS, CREDS].join("---\n");
        let docs = split(&stream).unwrap();
        let obj = documents("kind: ConfigMap\nmetadata: {name: scripts}")[0].clone();
        let mut places = Places::default();
        places.record(
            &obj,
            Location {
                document: 0,
                object: 0,
            },
        );
        let uses = HashMap::from([(("ConfigMap".to_string(), "scripts".to_string()), 3)]);
        let reader = DataReader::new(places, &uses, &docs);
        let at = Location {
            document: 0,
            object: 0,
        };
        let want = rollout_hash::data_text(&documents(SCRIPTS)[0]);
        let mut kept = Vec::new();
        for _ in 0..4 {
            assert_eq!(&*reader.data_text(at).unwrap(), want);
            kept.push(reader.kept.borrow().get(&at).map(|(_, left)| *left));
        }
        assert_eq!(kept, [Some(2), Some(1), None, None]);
    }

    /// The items of a List used once each are read in one reading of the List, not one per
    /// item (which grows with the square of the List's size), and nothing is kept after.
    #[test]
    fn a_document_is_read_once_for_all_the_objects_counted_in_it() {
        struct Row {
            what: &'static str,
            /// Uses counted per item of the List (items named `c0`, `c1`, …).
            uses: &'static [u32],
            /// The items asked for, in order.
            asked: &'static [usize],
            reads: usize,
        }
        let rows = [
            Row {
                what: "three items used once each",
                uses: &[1, 1, 1],
                asked: &[2, 0, 1],
                reads: 1,
            },
            Row {
                what: "an item used twice, one not used",
                uses: &[2, 0, 1],
                asked: &[0, 2, 0],
                reads: 1,
            },
            Row {
                what: "a use past the count reads the document again",
                uses: &[1, 1],
                asked: &[0, 1, 0],
                reads: 2,
            },
        ];
        for row in rows {
            let items: Vec<String> = (0..row.uses.len())
                .map(|i| {
                    format!("- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c{i}}}, data: {{k: v{i}}}}}\n")
                })
                .collect();
            let stream = format!("apiVersion: v1\nkind: List\nitems:\n{}", items.concat());
            let docs = split(&stream).unwrap();
            let list = read(&stream).remove(0);
            let objs = objects(&list).unwrap();
            let mut places = Places::default();
            let mut uses = HashMap::new();
            for (i, obj) in objs.iter().enumerate() {
                places.record(
                    obj,
                    Location {
                        document: 0,
                        object: i,
                    },
                );
                if row.uses[i] > 0 {
                    uses.insert(("ConfigMap".to_string(), format!("c{i}")), row.uses[i]);
                }
            }
            let reader = DataReader::new(places, &uses, &docs);
            for &i in row.asked {
                let at = Location {
                    document: 0,
                    object: i,
                };
                assert_eq!(
                    &*reader.data_text(at).unwrap(),
                    rollout_hash::data_text(objs[i]),
                    "{}: item {i}",
                    row.what
                );
            }
            assert_eq!(reader.reads.get(), row.reads, "{}", row.what);
            assert!(reader.kept.borrow().is_empty(), "{}", row.what);
        }
    }
}

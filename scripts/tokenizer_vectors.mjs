// Writes the Qwen2.5 tokenizer reference vectors (tests/fixtures/qwen_tokenizer/vectors.jsonl).
//
//   node scripts/tokenizer_vectors.mjs TOKENIZER_JSON BENCH_DIR OUT_JSONL
//
// The reference is Hugging Face's own tokenizers library (the Rust crate, through its
// Node binding, npm `tokenizers`); the pure-JS port (npm `@huggingface/tokenizers`)
// is run beside it as a cross-check, and its disagreements are printed, not written.
// Run through scripts/tokenizer_vectors.sh, which installs both packages into a cache.
//
// Each output line: {"kind", "text", "ids", "decoded", "decoded_skip_special"}:
// ids = encode(text) without template tokens; decoded = decode(ids) keeping special
// tokens; decoded_skip_special = decode(ids, skip_special_tokens=true). Every string
// is deterministic (a seeded generator), so rerunning gives the same file.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [tokJsonPath, benchDir, outPath] = process.argv.slice(2);
if (!tokJsonPath || !benchDir || !outPath) {
  console.error('usage: node tokenizer_vectors.mjs TOKENIZER_JSON BENCH_DIR OUT_JSONL');
  process.exit(2);
}
// Packages resolve from the cache directory the shell script installed them into.
const require = createRequire(path.join(process.env.TOKENIZER_NPM_DIR || process.cwd(), 'package.json'));
const { Tokenizer: RustTokenizer } = require('tokenizers');
const jsModule = await import(require.resolve('@huggingface/tokenizers'));
const JsTokenizer = jsModule.Tokenizer ?? jsModule.default.Tokenizer;

// ---- a seeded generator (mulberry32) -------------------------------------------------
let seed = 20240611;
function rand() {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pad2 = (n) => String(n).padStart(2, '0');

const vectors = [];  // {kind, text}
const seen = new Set();
function add(kind, text) {
  if (seen.has(text)) return;
  seen.add(text);
  vectors.push({ kind, text });
}

// ---- 1. the benchmark's prompts, answers and options ------------------------------
function readJsonl(p) {
  return fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}
const items = [...readJsonl(path.join(benchDir, 'finetune.jsonl')), ...readJsonl(path.join(benchDir, 'general.jsonl'))];
for (const it of items) {
  add('bench_prompt', it.prompt);
  add('bench_answer', it.answer);
  for (const o of it.options || []) add('bench_option', o);
}

// ---- 2. chat-formatted samples with the vision markers -----------------------------
const imagePads = (n) => '<|image_pad|>'.repeat(n);
for (let i = 0; i < items.length; i += 5) {
  const it = items[i];
  const system = i % 2 ? 'You are a helpful radiology assistant.' : 'You are a helpful assistant.';
  const vision = it.image ? `<|vision_start|>${imagePads(int(1, 16))}<|vision_end|>` : '';
  add('chat', `<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n${vision}${it.prompt}<|im_end|>\n` +
              `<|im_start|>assistant\n${it.answer}<|im_end|>\n`);
}

// ---- 3. radiology reports -----------------------------------------------------------
const exams = ['CHEST (PA AND LAT)', 'CHEST (PORTABLE AP)', 'CT CHEST W/O CONTRAST', 'CT ABD/PELVIS W/ IV CONTRAST',
  'MRI BRAIN W/WO GAD', 'US RUQ', 'CXR', 'KUB', 'CTA CHEST (PE PROTOCOL)', 'MR L-SPINE', 'XR R KNEE 3V',
  'NM BONE SCAN', 'PET/CT SKULL BASE TO MID-THIGH', 'FLUORO UGI', 'MAMMO BILAT SCREENING'];
const indications = ['SOB', 'r/o PNA', 'fever, cough x3 days', 's/p CABG', 'eval for PTX after line placement',
  'CHF exacerbation', 'h/o COPD, worsening dyspnea', 'trauma (MVC)', 'RUQ pain, ?cholecystitis', 'ETT placement',
  'f/u 6 mm nodule', 'low back pain w/ radiculopathy', 'Hx of breast CA, staging', "pt's O2 sat 88% on RA",
  'new R IJ CVC', 'NGT position', 'AMS, ?CVA', 'hemoptysis', 'Eval. for free air', 'chest pain; troponin 0.04 ng/mL'];
const organs = ['lungs', 'heart', 'mediastinum', 'pleura', 'liver', 'gallbladder', 'spleen', 'kidneys', 'aorta',
  'trachea', 'osseous structures', 'soft tissues', 'RLL', 'LUL', 'lingula', 'hila', 'costophrenic angles'];
const findings = ['No focal consolidation, pleural effusion, or pneumothorax.',
  'Mild cardiomegaly is unchanged.', 'There is a small L pleural effusion w/ adjacent atelectasis.',
  'ETT terminates 4.5 cm above the carina.', 'NGT courses below the diaphragm, tip not visualized.',
  'R IJ CVC tip projects over the cavoatrial junction.', 'Interstitial edema, c/w fluid overload.',
  'Degenerative changes of the T-spine.', 'Stable 6 mm RUL nodule (series 3, image 42).',
  'Gallbladder wall thickening (4 mm) w/ pericholecystic fluid; sonographic Murphy sign +.',
  'No acute intracranial hemorrhage, mass effect, or midline shift.',
  'Hepatic steatosis. CBD measures 5 mm.', "The patient's lines/tubes are unchanged.",
  'Moderate-to-large hiatal hernia.', 'Bibasilar opacities may reflect atelectasis; infection not excluded.',
  'Aorta is tortuous & calcified.', 'Emphysematous changes, upper-lobe predominant.',
  "Findings d/w Dr. O'Neil at 14:32 on 03/04/2021.", 'Left 5th–7th rib fractures, acute.',
  'Lesion enhances to 120 HU on arterial phase; washout on delayed (≥ 3 min).'];
const impressions = ['No acute cardiopulmonary process.', 'Findings c/w CHF.', 'Interval improvement of RLL PNA.',
  'Small R PTX (~10%), new since prior.', 'Lines & tubes in standard position.', 'Cholecystitis, acute.',
  'BI-RADS 2: benign.', 'Lung-RADS 3; f/u LDCT in 6 mo.', 'Recommend clinical correlation.',
  "WE'LL FOLLOW UP; DON'T DELAY.", 'Appendix not visualized; no secondary signs of appendicitis.'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function date() {
  const y = int(1998, 2025), m = int(1, 12), d = int(1, 28);
  return pick([`${y}-${pad2(m)}-${pad2(d)}`, `${pad2(m)}/${pad2(d)}/${y}`, `${months[m - 1]} ${d}, ${y}`,
               `${d}.${m}.${String(y).slice(2)}`, `${y}${pad2(m)}${pad2(d)}`]);
}
function measurement() {
  return pick([`${int(1, 9)}.${int(0, 9)} cm`, `${int(2, 40)} mm`, `${int(1, 9)} x ${int(1, 9)} mm`,
               `${int(1, 15)}.${int(0, 9)} × ${int(1, 15)}.${int(0, 9)} cm`, `${int(50, 500)} mL`,
               `${int(1, 100)} mg IV`, `${int(-100, 400)} HU`, `SpO2 ${int(80, 100)}%`,
               `BP ${int(90, 180)}/${int(50, 110)} mmHg`, `${int(35, 40)}.${int(0, 9)} °C`, `${int(60, 120)} bpm`,
               `${int(1, 5)}.${int(0, 99)} mSv`, `EF ${int(20, 70)}%`, `${int(1, 3)}+ edema`]);
}
function headerStyle(h) {
  return pick([`${h}:`, `${h}:`, `${h.toLowerCase()}:`, `**${h}**`, `${h}\t`, `[${h}]`]);
}
function report() {
  const nl = pick(['\n', '\n', '\n', '\r\n', '\n\n', ' \n']);
  const parts = [];
  if (rand() < 0.7) parts.push(`${headerStyle('EXAMINATION')} ${pick(exams)}`);
  if (rand() < 0.6) parts.push(`${headerStyle('INDICATION')} ${int(18, 95)}${pick(['M', 'F', 'yo M', '-year-old woman'])} w/ ${pick(indications)}.`);
  if (rand() < 0.5) parts.push(`${headerStyle('COMPARISON')} ${pick(['None.', date(), `Prior ${pick(exams)} from ${date()}.`])}`);
  if (rand() < 0.3) parts.push(`${headerStyle('TECHNIQUE')} ${pick(['Single frontal view.', 'Axial images w/ sagittal & coronal reformats; 5 mm slices.', 'DLP 412.3 mGy·cm.'])}`);
  const nf = int(1, 5);
  const fl = [];
  for (let i = 0; i < nf; ++i) {
    let f = pick(findings);
    if (rand() < 0.4) f = f.replace(/\.$/, `, measuring ${measurement()}.`);
    if (rand() < 0.2) f = `The ${pick(organs)} ${pick(['are', 'is'])} ${pick(['unremarkable', 'within normal limits', 'not well seen'])}. ${f}`;
    fl.push(f);
  }
  const listStyle = int(0, 3);
  const body = fl.map((f, i) => [f, `${i + 1}. ${f}`, `- ${f}`, `• ${f}`][listStyle]).join(listStyle === 0 ? ' ' : nl);
  parts.push(`${headerStyle('FINDINGS')}${listStyle === 0 ? ' ' : nl}${body}`);
  const ni = int(1, 3);
  const il = [];
  for (let i = 0; i < ni; ++i) il.push(`${ni > 1 ? `${i + 1}. ` : ''}${pick(impressions)}`);
  parts.push(`${headerStyle('IMPRESSION')}${nl}${il.join(nl)}`);
  if (rand() < 0.3) parts.push(`Electronically signed by ${pick(['J. Smith, MD', 'A. Müller, MD', 'M. García-López, MD', 'Dr. Chen Wei (陈伟)'])} on ${date()} ${pad2(int(0, 23))}:${pad2(int(0, 59))}`);
  return parts.join(nl);
}
for (let i = 0; i < 420; ++i) add('report', report());
for (let i = 0; i < 80; ++i) add('report_line', pick([pick(findings), pick(impressions), `${pick(indications)}.`, `${pick(exams)} ${date()}`, measurement()]));

// ---- 4. Unicode ---------------------------------------------------------------------
const unicode = [
  'café', 'Café au lait spots', 'naïve', 'Ångström', 'Œdème pulmonaire', 'Müller–Lyer', 'façade', 'São Paulo',
  'Δx = 3 mm', 'µg/kg', 'μg/kg', '± 2 SD', '≤ 5 mm', '≥ 10%', '→ improved', '½ inch', '25 °C', '37℃', 'Ⅻ', '①②③',
  'cafe\u0301', 'e\u0301e\u0300e\u0302', 'A\u030A', 'n\u0303', 'o\u0308\u0304', '\u1100\u1161\u11A8', 'Å', 'Ω', 'ﬁbrosis', 'ﬀ',
  'ḱ\u0323', 'q\u0307\u0323', 'a\u0328\u0301', '\u0301 leading combining', 'x\u20DD', 'ｆｕｌｌｗｉｄｔｈ　ｓｐａｃｅ',
  '肺炎', '胸部X线检查未见异常。', '右下肺野可见斑片状阴影，建议复查。', '患者男，65岁，咳嗽3天。', '心影不大', '左肺上叶结节约6mm',
  '肺がんの疑い', 'レントゲン写真', 'ｶﾀｶﾅ', '흉부 X선 검사', '폐렴 의심', 'Лёгкие без очаговых изменений', 'ПНЕВМОНИЯ',
  'Ελληνικά: πνευμονία', 'שלום עולם', 'צילום חזה תקין', 'مرحبا بالعالم', 'الرئتان سليمتان', 'فارسی ۱۲۳', 'हिन्दी रिपोर्ट',
  'ภาษาไทย', 'Tiếng Việt: viêm phổi', 'ქართული', 'Հայերեն', 'አማርኛ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𝟏𝟐𝟑', '🫁 lungs', '❤️ heart',
  '👩‍⚕️ doctor', '👨🏽‍🔬', '🇺🇸🇩🇪', '🙂🙃😀', 'emoji🙂in🙃text', '🏥🩻🩺💊', 'ok 👍🏻', '⚠️ WARNING',
  'RTL mix: שלום hello عالم 123', '\u200Fמימין לשמאל\u200E', 'zero\u200Bwidth', 'soft\u00ADhyphen', 'word\u2060joiner',
  'join\u200Dner', 'non\u200Cjoiner', 'nbsp\u00A0here', 'narrow\u202Fnbsp', 'em\u2003space', 'ideographic\u3000space',
  'line\u2028separator', 'para\u2029separator', 'nel\u0085line', 'bom\uFEFFinside', 'vt\u000Bchar', 'ff\u000Cchar',
  'ctrl\u0001\u0002\u001F', 'del\u007F', 'c1\u0080\u009F', 'replacement \uFFFD', 'private \uE000', 'nonchar \uFDD0',
  'ſ long s', "it'ſ", "IT'S", "they'RE", "we'Ve", "I'M", "you'LL", "he'D", "dog's", "dogs'", "''", "'", "'s'", "rock'n'roll",
  'İstanbul', 'ǅ titlecase', 'ß straße STRASSE', 'ǰ', 'ΐ', 'ﬃ', 'K Kelvin', 'Å Angstrom sign',
];
for (const u of unicode) add('unicode', u);
// Random strings from a mixed alphabet: the regex's classes, whitespace and marks collide.
const alphabet = [
  'a', 'b', 'Z', 'é', 'ñ', 'ß', 'Ж', 'λ', '中', '文', 'ア', '한', 'ع', 'ש', 'ก', 'क', '\u0301', '\u0308', '\u0327', '\u094D',
  '0', '1', '9', '٣', '५', '²', '½', 'Ⅳ', '①', ' ', ' ', ' ', '  ', '\t', '\n', '\r', '\r\n', '\u00A0', '\u3000', '\u2009',
  '\u0085', '\u000B', '\u000C', '\u2028', '.', ',', '!', '?', "'", '"', '-', '_', '/', '\\', '(', ')', '[', ']', '{', '}',
  '<', '>', '|', '@', '#', '$', '%', '^', '&', '*', '+', '=', '~', '`', ':', ';', '…', '—', '«', '»', '“', '”', '¿',
  '🙂', '🫁', '👍🏽', '\u200D', '\u200B', '\uFEFF', "'s", "'T", "'ll", "'RE", 'the', 'ing', ' the', 'mm', 'cm',
];
for (let i = 0; i < 420; ++i) {
  const n = int(1, 24);
  let s = '';
  for (let k = 0; k < n; ++k) s += pick(alphabet);
  add('fuzz', s);
}

// ---- 5. digits and whitespace -------------------------------------------------------
for (const d of ['0', '7', '10', '123', '2024', '12345', '3.14159', '1,000,000', '1e-5', '0x1F', '-42', '+7', '007', '12:30:45',
                 '2021-03-04T14:32:00Z', '555-0199', '#12', '3rd', '21st', 'v2.5.1', '1/2', '99.9%', '１２３', '٠١٢٣٤٥٦٧٨٩'])
  add('digits', d);
for (let i = 0; i < 90; ++i) add('digits', String(Math.floor(rand() * 10 ** int(1, 15))) + pick(['', ' mm', '%', '.', 'x', ' ', '\n']));
const ws = [' ', '  ', '   ', '\t', '\n', '\r', '\r\n', '\n\n', '\t\t', ' \t ', '\u00A0'];
for (let i = 0; i < 110; ++i) {
  const n = int(1, 6);
  let s = rand() < 0.5 ? pick(['a', 'word', 'Hello', '1', '.', 'IMPRESSION:']) : '';
  for (let k = 0; k < n; ++k) s += pick(ws).repeat(int(1, 4)) + (rand() < 0.6 ? pick(['x', 'the lung', '2', '!', 'é', '肺', '-']) : '');
  add('whitespace', s);
}
for (const w of ['', ' ', '\n', '\t', '\r\n', '    ', '\n\n\n', ' \n \n', '\t\n\r', 'trailing   ', '   leading', 'a\r\nb', 'a\rb',
                 'line1\nline2\r\nline3\rline4', 'tab\tseparated\tvalues', 'end\n', 'x\n\n\ny', '  \t  \n  '])
  add('whitespace', w);

// ---- 6. special and added tokens embedded in text --------------------------------------
const tokJson = JSON.parse(fs.readFileSync(tokJsonPath, 'utf8'));
const added = tokJson.added_tokens.map((t) => t.content);
for (const t of added) {
  add('special', t);
  add('special', `before${t}after`);
  add('special', ` ${t} `);
  add('special', `text ${t}\nmore`);
  add('special', `${t}${t}`);
}
const partials = ['<|im_start', '<|im_start|', 'im_start|>', '<|', '|>', '<|im_start|x>', '<|IM_START|>', '< |im_start|>',
                  '<|image_pad|><|image_pad', '<tool_call', '</tool_call>x<tool_call>', '<|endoftext|>>', '<<|im_end|>',
                  '<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Describe the image.',
                  '<|im_start|>user\nWhat is shown?<|im_end|>\n<|im_start|>assistant\n'];
for (const p of partials) add('special', p);
for (let i = 0; i < 60; ++i) {
  let s = '';
  const n = int(2, 6);
  for (let k = 0; k < n; ++k) s += rand() < 0.4 ? pick(added) : pick(['The', ' lungs', ' are clear.', '\n', ' ', '肺', '🙂', '12', "'s", '  ', '\t']);
  add('special', s);
}

// ---- encode with the reference, cross-check with the JS port ------------------------
const rust = RustTokenizer.fromFile(tokJsonPath);
const tokConfig = JSON.parse(fs.readFileSync(path.join(path.dirname(tokJsonPath), 'tokenizer_config.json'), 'utf8'));
const js = new JsTokenizer(tokJson, tokConfig);
const lines = [];
let jsDiffer = 0;
const diffKinds = {};
for (const v of vectors) {
  const enc = await rust.encode(v.text, null, { addSpecialTokens: false });
  const ids = Array.from(enc.getIds());
  const decoded = await rust.decode(ids, false);
  const decodedSkip = await rust.decode(ids, true);
  const rec = { kind: v.kind, text: v.text, ids, decoded, decoded_skip_special: decodedSkip };
  lines.push(JSON.stringify(rec));
  let jsIds;
  try {
    jsIds = Array.from(js.encode(v.text, { add_special_tokens: false }).ids, Number);
  } catch (e) {
    jsIds = null;
  }
  if (!jsIds || jsIds.length !== ids.length || jsIds.some((x, i) => x !== ids[i])) {
    ++jsDiffer;
    diffKinds[v.kind] = (diffKinds[v.kind] || 0) + 1;
    if (jsDiffer <= 10) console.error(`[vectors] JS port differs on ${JSON.stringify(v.text)}: rust ${JSON.stringify(ids)} js ${JSON.stringify(jsIds)}`);
  }
}
fs.writeFileSync(outPath + '.tmp', lines.join('\n') + '\n');
fs.renameSync(outPath + '.tmp', outPath);
const counts = {};
for (const v of vectors) counts[v.kind] = (counts[v.kind] || 0) + 1;
console.error(`[vectors] wrote ${vectors.length} vectors to ${outPath}: ${JSON.stringify(counts)}`);
console.error(`[vectors] JS port (@huggingface/tokenizers) disagrees with the Rust reference on ${jsDiffer}: ${JSON.stringify(diffKinds)}`);

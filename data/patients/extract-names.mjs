#!/usr/bin/env node
/**
 * Rebuilds data/patients/names.json (first names by sex and surnames for the 32 NATO nations)
 * from three MIT-licensed sources unpacked on disk. See docs/PATIENTS.md § Names for what comes
 * from where and for the fallbacks.
 *
 *   npm pack @faker-js/faker@10.6.0 && tar xzf faker-js-faker-10.6.0.tgz            → JS=package
 *   pip download faker==40.63.0 --no-deps && unzip faker-40.63.0-py3-none-any.whl    → PY=faker
 *   git show 9de6ac8b…:src/modules/person_data.h (cieslarmichal/faker-cxx)           → CXX=person_data.h
 *
 *   node data/patients/extract-names.mjs JS PY CXX > data/patients/names.json
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [jsDir, pyDir, cxxFile] = process.argv.slice(2);
if (!cxxFile) {
  console.error('usage: extract-names.mjs <@faker-js/faker package dir> <python faker package dir> <faker-cxx person_data.h>');
  process.exit(2);
}
const { allLocales } = await import(pathToFileURL(path.join(jsDir, 'dist/index.js')).href);

const clean = (list) => {
  const out = [];
  const seen = new Set();
  for (const raw of list) {
    const s = raw.normalize('NFC').trim();
    if (!s) continue;
    const n = s[0].toLocaleUpperCase() + s.slice(1); // faker-cxx writes some names with a lower-case first letter (ólafsson)
    if (!seen.has(n)) seen.add(n), out.push(n);
  }
  return out;
};

/** A faker-js locale's own lists (its person.first_name.{male,female}, person.last_name.{generic|male,female}). */
function js(locale) {
  const p = allLocales[locale]?.person;
  if (!p?.first_name?.male || !p.first_name.female || !p.last_name) throw new Error(`faker-js ${locale} has no own name lists`);
  const ln = p.last_name;
  return {
    maleFirst: p.first_name.male,
    femaleFirst: p.first_name.female,
    maleSurnames: ln.male ?? ln.generic,
    femaleSurnames: ln.female ?? ln.generic,
  };
}
const merge = (...parts) => ({
  maleFirst: parts.flatMap((p) => p.maleFirst),
  femaleFirst: parts.flatMap((p) => p.femaleFirst),
  maleSurnames: parts.flatMap((p) => p.maleSurnames),
  femaleSurnames: parts.flatMap((p) => p.femaleSurnames),
});

/** A tuple of string literals assigned in a Python Faker person provider: `    name = (\n "a",\n ... )`. */
function pyTuple(locale, name) {
  const text = fs.readFileSync(path.join(pyDir, 'providers/person', locale, '__init__.py'), 'utf8');
  const start = text.indexOf(`    ${name} = (`);
  if (start < 0) throw new Error(`python faker ${locale}: no ${name}`);
  const end = text.indexOf('\n    )', start);
  return [...text.slice(start, end).matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}

const cxx = fs.readFileSync(cxxFile, 'utf8');
function cxxArray(name) {
  const start = cxx.indexOf(`const auto ${name} = std::to_array<std::string_view>(`);
  if (start < 0) throw new Error(`faker-cxx: no ${name}`);
  const end = cxx.indexOf('});', start);
  return [...cxx.slice(start, end).matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}

const JS_SRC = '@faker-js/faker 10.6.0 (npm, MIT)';
const PY_SRC = 'Faker 40.63.0 (PyPI, MIT)';
const CXX_SRC = 'cieslarmichal/faker-cxx 9de6ac8bee5dc16efedb6f52607ecbe15497b845 src/modules/person_data.h (MIT)';

const nations = {};
const put = (iso, source, lists, note) => {
  nations[iso] = {
    source,
    ...(note ? { note } : {}),
    maleFirst: clean(lists.maleFirst),
    femaleFirst: clean(lists.femaleFirst),
    maleSurnames: clean(lists.maleSurnames),
    femaleSurnames: clean(lists.femaleSurnames),
  };
};
const jsPut = (iso, locale, note) => put(iso, `${JS_SRC} locale ${locale}`, js(locale), note);

put('ALB', `${CXX_SRC} albanian*`, {
  maleFirst: cxxArray('albanianMaleFirstNames'),
  femaleFirst: cxxArray('albanianFemaleFirstNames'),
  maleSurnames: cxxArray('albanianLastNames'),
  femaleSurnames: cxxArray('albanianLastNames'),
});
put('BEL', `${JS_SRC} locales fr_BE + nl_BE`, merge(js('fr_BE'), js('nl_BE')));
put('BGR', `${PY_SRC} person/bg_BG`, {
  maleFirst: pyTuple('bg_BG', 'first_names_male'),
  femaleFirst: pyTuple('bg_BG', 'first_names_female'),
  maleSurnames: pyTuple('bg_BG', 'last_names_male'),
  femaleSurnames: pyTuple('bg_BG', 'last_names_female'),
});
jsPut('CAN', 'en', 'faker-js en_CA has no name lists of its own and inherits en');
jsPut('HRV', 'hr');
jsPut('CZE', 'cs_CZ');
jsPut('DNK', 'da');
put('EST', `${PY_SRC} person/et_EE (the Estonian lists: first_names_*_est, last_names_est)`, {
  maleFirst: pyTuple('et_EE', 'first_names_male_est'),
  femaleFirst: pyTuple('et_EE', 'first_names_female_est'),
  maleSurnames: pyTuple('et_EE', 'last_names_est'),
  femaleSurnames: pyTuple('et_EE', 'last_names_est'),
});
jsPut('FIN', 'fi');
jsPut('FRA', 'fr');
jsPut('DEU', 'de');
jsPut('GRC', 'el');
jsPut('HUN', 'hu');
{
  const last = cxxArray('icelandicLastNames');
  put('ISL', `${CXX_SRC} icelandic*`, {
    maleFirst: cxxArray('icelandicMaleFirstNames'),
    femaleFirst: cxxArray('icelandicFemaleFirstNames'),
    maleSurnames: last.filter((n) => n.endsWith('son')),
    femaleSurnames: last.filter((n) => n.endsWith('dóttir')),
  }, 'patronymics split by ending: -son for men, -dóttir for women');
}
jsPut('ITA', 'it');
jsPut('LVA', 'lv');
put('LTU', `${CXX_SRC} lithuanian*`, {
  maleFirst: cxxArray('lithuanianMaleFirstNames'),
  femaleFirst: cxxArray('lithuanianFemaleFirstNames'),
  maleSurnames: cxxArray('lithuanianLastNames'),
  femaleSurnames: cxxArray('lithuanianLastNames'),
}, 'the source has one surname list, in the masculine form; women get it too (real Lithuanian female surnames end in -ienė/-aitė/-ytė)');
jsPut('LUX', 'fr', 'faker-js fr_LU has no name lists of its own and inherits fr');
jsPut('MNE', 'sr_RS_latin', 'FALLBACK: no Montenegrin list in any source used; Serbian (Latin script), the closest language');
jsPut('NLD', 'nl');
jsPut('MKD', 'mk');
jsPut('NOR', 'nb_NO');
jsPut('POL', 'pl');
jsPut('PRT', 'pt_PT');
jsPut('ROU', 'ro');
jsPut('SVK', 'sk');
jsPut('SVN', 'sl_SI');
jsPut('ESP', 'es');
jsPut('SWE', 'sv');
jsPut('TUR', 'tr');
jsPut('GBR', 'en', 'faker-js en_GB has no name lists of its own and inherits en');
jsPut('USA', 'en', 'faker-js en_US has no name lists of its own and inherits en');

const sorted = Object.fromEntries(Object.keys(nations).sort().map((k) => [k, nations[k]]));
const about = 'First names by sex and surnames for the 32 NATO nations (ISO 3166-1 alpha-3); see docs/PATIENTS.md § Names. Made by data/patients/extract-names.mjs.';
const lines = Object.entries(sorted).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
process.stdout.write(`{\n "about": ${JSON.stringify(about)},\n "nations": {\n${lines.join(',\n')}\n }\n}\n`);

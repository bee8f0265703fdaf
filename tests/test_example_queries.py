"""Every example query answers its question with the answer the sources give.

The expected answers below are read off ../shared/sources (the seed article and the reference
table), not off the query results: a change to the data or a query that alters an answer fails
here. Federated examples (`federated-*.rq`) need a remote endpoint and are tested in test_link.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from graph import queries
from graph.build.pipeline import build
from graph.config import Settings
from graph.store import open_store

BASE = "https://w3id.org/khojaly/"
ROOT = Path(__file__).resolve().parent.parent
S1 = "caliber-2026-khojaly-commemoration"
S2 = "hrw-world-report-1993"
S3 = "hrw-seven-years-of-conflict-1994"
S4 = "mfa-azerbaijan-khojaly-genocide-2021"
S5 = "wikipedia-en-khojaly-massacre-victims-memorial"
S6 = "wikipedia-en-khojaly-massacre-2017"
LABEL = {
    S1: "Flowers and prayers in Baku as nation remembers Khojaly victims (Caliber.az, 2026)",
    S2: "World Report 1993: Azerbaijan (Human Rights Watch/Helsinki)",
    S3: "Azerbaijan: Seven Years of Conflict in Nagorno-Karabakh "
    "(Human Rights Watch/Helsinki, 1994)",
    S4: "Khojaly Genocide (Ministry of Foreign Affairs of Azerbaijan, 2021)",
    S5: "Khojaly massacre: Victims (English Wikipedia, summarising Memorial)",
    S6: "Khojaly Massacre (English Wikipedia, August 2017 copy)",
}
#: Claims of each source added for "who says what", counted from the claims each
#: source file states (data/source/<slug>.ttl), one per number, account or recognition quoted.
JUSTICIA = ("Justicia para Khojaly (es.knowledger.de, machine translation of an English Wikipedia "
            "revision, undated)")
LEYLA_2016 = ("Leyla Aliyeva: Despite all the horrors, our people's morale was not undermined "
              "(leyla-aliyeva.az, undated)")
ISSUE13_CLAIMS = {
    "24 years passes since Khojaly massacre (Vestnik Kavkaza, 2016)": 3,
    "26 years have passed since Khojaly genocide committed by Armenian aggressors "
    "(abc.az, 26 February 2018)": 6,
    "A President, an Interview, and a Tragic Anniversary (Thomas de Waal, Carnegie Europe)": 3,
    "AZERTAC news item on the recognitions (9 March 2018, in French)": 3,
    "Al-Sharq report on the OIC Secretary-General's statement (via sauress.com, "
    "undated, in Arabic)": 1,
    "Anniversary of the Khojaly Massacre (press release, PR Newswire, 26 February 2021)": 4,
    "Arizona Recognizes Khojaly Genocide (Turan, 2015)": 1,
    "Arizona State recognizes the Khojaly massacre (Report.az, 26 February 2015)": 4,
    "Armenian soldiers massacre hundreds of fleeing families (Thomas Goltz, The "
    "Sunday Times, 1 March 1992; Spanish translation on khojalytoday.com)": 2,
    "Armenians 'hold Azeris hostage' (Helen Womack, The Independent, 6 March 1992, as "
    "reproduced by justiceforkhojaly.org)": 1,
    "Armenians killed 1000, Azeris charge (Paul Quinn-Judge, The Boston Globe, 3 "
    "March 1992, as reproduced by justiceforkhojaly.org)": 6,
    "Atrocity reports horrify Azerbaijan (Brian Killen, The Washington Times, 3 March "
    "1992, as reproduced by justiceforkhojaly.org)": 2,
    "AzerNews report on the OIC Council of Foreign Ministers' resolution (Laman "
    "Ismayilova, 24 March 2022)": 3,
    "Azerbaijan keeps minute of silence honoring memory of Khojaly massacre victims "
    "(Trend, Humay Aghajanova, 26 February 2024)": 7,
    "Azerbaijan observes moment of silence for Khojaly victims (AZERTAC, 26 February 2021)": 1,
    "Azerbaijan's former president's confession on Khojali massacres in 1992 "
    "interview – Past (Aravot, 26 January 2018)": 2,
    "Azerbaijan's parliament to adopt decision and statement on Khojaly genocide "
    "tomorrow (APA, 26 February 2007)": 3,
    "Azerbaijani MFA: We'd like to remind amnesia suffering Armenian leadership "
    "Sargsyan's statement to Thomas de Waal (Report.az, 25 January 2018)": 2,
    "Azerbaijani Parliament makes decision on Khojaly genocide (Trend, 24 February 2012)": 3,
    "Azerbaijani Press: Azerbaijan puts Armenian ex-presidents on int'l wanted list "
    "(Trend, as reposted by armenianclub.com, 2022)": 1,
    "Azerbaijani residents pay tribute to victims of Khojaly tragedy (Caucasian Knot, "
    "26 February 2016)": 2,
    "Azerbaijanis Claim 1,000 Died While Fleeing Raid in Disputed Enclave (Thomas "
    "Goltz, The Washington Post, 3 March 1992, as reproduced by caucasusrecord.com)": 7,
    "Bloodshed in the Caucasus, \"Khojaly\" section (Human Rights Watch/Helsinki Watch, "
    "September 1992, as reproduced by justiceforkhojaly.org)": 4,
    "Bodies mark site of Karabakh massacre (Anatol Lieven, The Times, 3 March 1992, "
    "as reproduced by justiceforkhojaly.org)": 2,
    "Chapter 23: The proclamation of the Mountainous Karabagh Republic as a guaranty "
    "for self-defence (therootsofkarabakh.com, 2010)": 2,
    "Chodschali-Denkmal in Berlin (Enzyklopädie des Islam, undated)": 1,
    "Final document of session of Experts of the Organization of the Islamic "
    "Conference supports initiative by Leila Aliyeva (Heydar Aliyev Foundation, 17 "
    "May 2008)": 1,
    "Full inventory of the international recognition of the Khojaly Massacre as of "
    "June 4, 2013 (anonymous telegra.ph post)": 11,
    "Gunaz TV item on the 29th anniversary (undated, in Persian)": 2,
    "Hague commemorates victims of Khojaly genocide (Report.az, undated)": 1,
    "Heydar Aliyev statue removed from Mexico City central park (Massis Post, January 2013)": 1,
    "I did not expect that they would accuse me of genocide; the first president of "
    "Azerbaijan spoke about the events of Khojaly (radar.am, 2024)": 1,
    "Ilham Aliyev lies, claims reporter who interviewed former Azerbaijani president "
    "on Khojaly events (Panorama.am, 18 February 2020)": 2,
    "Justice for Khojaly (azerbaijan.az, undated)": 2,
    "Justice for Khojaly, page 29 (Heydar Aliyev Foundation booklet, undated)": 1,
    "KHOJALY: Was there a \"hymanitarian corridor\"? (xocali.org, undated)": 1,
    "Karabakh falls prey to revenge (Helen Womack, The Independent, 8 March 1992, as "
    "reproduced by justiceforkhojaly.org)": 3,
    "Khojaly genocide: a horrific page in the history of humanity (karabakh.center, undated)": 4,
    "Khojaly massacre (wikisum.wiki, summary of English Wikipedia, undated)": 2,
    "Khojaly massacre explained (everything.explained.today, mirror of English "
    "Wikipedia, undated)": 2,
    "Khojaly massacre memorials (English Wikipedia, undated copy)": 3,
    "Khojaly: how it all happened (Thomas de Waal, excerpt of Black Garden, reprinted "
    "by JAMnews)": 6,
    "Letter dated 24 February 2005 from the Permanent Representative of Azerbaijan to "
    "the UN (A/59/713–S/2005/125, copy on docslib.org)": 6,
    "Leyla Aliyeva: \"We will never forget people massacred in Khojaly\" "
    "(leyla-aliyeva.az, undated)": 1,
    "List of Azerbaijani hostages in Armenia can be extended (Azerbaijan Foundation "
    "site, quoting Shahin Sayilov, undated)": 2,
    "Military Prosecutor's Office: 12 people who committed the Garadagli genocide are "
    "wanted internationally (txtreport.com, aggregating APA, 2023)": 2,
    "Morgues fill as Azeris head for all-out war (Thomas Goltz, The Sunday Times, 8 "
    "March 1992, as reproduced by justiceforkhojaly.org)": 1,
    "NGO plans signature campaign (Today.az, citing RIA Novosti, c. 2006)": 4,
    "OIC Secretary General: Mass atrocities perpetrated in Khojaly - crimes against "
    "humanity (Report.az, 27 February 2024)": 2,
    "OIC made resolution on Khojaly genocide (Report.az, 29 May 2015)": 1,
    "Opening of Khojaly monument after reconstruction (Embassy of Azerbaijan in the "
    "Netherlands, undated)": 3,
    "Place of Khojaly monument in Hague changed (APA, 5 August 2020)": 1,
    "Rebuilt \"Park of Friendship\" and Memorial in memory of the victims of the "
    "Khojaly genocide opened in Sarajevo (leyla-aliyeva.az, 24 February)": 1,
    "Recognition of the Khojaly Genocide by the U.S. (garabagh.net, undated)": 2,
    "Refugees and fresh graves confirm massacre by Armenians (Helen Womack, The "
    "Independent, 5 March 1992, as reproduced by justiceforkhojaly.org)": 3,
    "Report of «Memorial» Human Rights Watch Center (garabagh.net, undated summary)": 3,
    "Sarkisian Blasts Baku on Distorting Facts Surrounding Khojaly Events "
    "(armenianclub.com repost, 26 January 2018)": 2,
    "Statement by Artsakh MFA: Azerbaijan uses \"Khojalu\" case for anti Armenian "
    "propaganda (times.am, undated)": 1,
    "Tag des Gedenkens an die Opfer von Khojaly (perceptiode.com, machine translation "
    "of Russian Wikipedia, undated)": 2,
    "The \"Justice for Khojaly\" international campaign commences in Russia "
    "(leyla-aliyeva.az, 27 February)": 1,
    "The Causes of Casualties Among Civilians In Khojaly (anonymous Fandom wiki, undated)": 2,
    "The Karabakh tragedy (Trud, 6 March 1992, as reproduced by justiceforkhojaly.org)": 2,
    "The answer of Foreign Minister Edward Nalbandian to the questions of news agency "
    "(Ministry of Foreign Affairs of Armenia, 27 February 2018)": 2,
    "The truth about Khojalu: Marukyan shares interview of Azerbaijan's first "
    "President (Public Radio of Armenia, 26 February 2024)": 2,
    "Today.az (by Trend) item on Thomas de Waal's interview with Sarkisian (1 March 2021)": 1,
    "Tragedy Massacre in Khojaly (TIME, 16 March 1992)": 4,
    "Tragedy in Khojaly - Commemorative event at Moscow Jewish Museum and Tolerance "
    "Center (Vestnik Kavkaza, undated)": 5,
    "Tragedy in Khojaly military review (actionvideo.ru, machine-translated, undated)": 1,
    "Tragedy whose perpetrators cannot be vindicated (Svoboda, 12 June 1992, "
    "summarising Memorial; as reproduced by justiceforkhojaly.org)": 5,
    "Tragédia de Khojali (Heydar Aliyev Heritage library, undated)": 2,
    "Trend report on a wreath at the Khojaly monument in Mexico City (26 February 2026)": 2,
    "Trend report on the launch of 'Justice to Khojali - Liberty to Karabakh' (J. "
    "Babayeva, 7 May)": 1,
    "XOCALI ABİDƏLƏRİ: Berlin (Ministry of Foreign Affairs of Azerbaijan, undated)": 2,
    "Xocalıya ədalət kampaniyası (zeynebiye.com, 22 February 2010)": 2,
    "khojaly.ba (campaign site, Bosnia, undated)": 1,
    "news.am report of an interview of Armenia's ambassador to Italy with Agenparl (undated)": 1,
    # the candidates modelled later (I01, I03, R08, F10, F12, C11, C18)
    "Bloodshed in the Caucasus, summary (Human Rights Watch/Helsinki Watch, September 1992)": 2,
    "Report on massive violations of human rights committed in the seizure of Khojaly (Memorial "
    "Human Rights Centre, Nezavisimaya Gazeta, 18 June 1992, as reproduced by "
    "justiceforkhojaly.org)": 1,
    "Milli Majlis adopts a resolution on 25th anniversary of Khojaly genocide (Report.az, "
    "24 February 2017)": 8,
    "Khojaly massaker (perceptiosv.com, machine translation of Russian Wikipedia, undated)": 3,
    JUSTICIA: 3,
    "Statue of Heydar Aliyev, Mexico City (English Wikipedia, undated copy)": 2,
    LEYLA_2016: 6,
    # the families row's other side (6 families, 26 children), read from docslib.org's copy
    "Khojaly Genocide (anonymous document, as reproduced by docslib.org, undated)": 2,
}
EN_WP = "Khojaly massacre (English Wikipedia, undated copy)"
UN_2005 = ("Letter dated 24 February 2005 from the Permanent Representative of Azerbaijan to "
           "the UN (A/59/713–S/2005/125, copy on docslib.org)")
RU_WP = "Ходжалинская резня (Russian Wikipedia, undated copy)"


@pytest.fixture(scope="module")
def store(built_settings):
    return open_store(built_settings, read_only=True)


def _py(term):
    if term is None:
        return None
    if isinstance(term, Literal):
        dt = term.datatype.value
        if dt.endswith(("#integer", "#positiveInteger")):
            return int(term.value)
        if dt.endswith("#decimal"):
            return float(term.value)
        return term.value
    if isinstance(term, NamedNode):
        return term.value
    return str(term)


def answer(store, name: str) -> list[dict]:
    results = queries.run(store, f"examples/{name}")
    names = [v.value for v in results.variables]
    return [{n: _py(row[n]) for n in names} for row in results]


def test_every_example_has_a_pinned_answer():
    local = {q.name.split("/")[-1] for q in queries.examples()}
    local = {n for n in local if not n.startswith("federated-")}
    tests = [name for name in globals() if name.startswith("test_")]
    tested = {name.removeprefix("test_").replace("_", "-") for name in tests}
    assert len(local) >= 15
    assert local <= tested, f"examples without a pinned answer: {sorted(local - tested)}"


def test_killed_by_source(store):
    rows = answer(store, "killed-by-source")
    got = {
        (r["source"].removeprefix(BASE + "id/source/"), r["value"], r["min"], r["max"],
         r["qualifier"], r["attributedTo"])
        for r in rows
    }
    assert got == {
        (S1, 613, None, None, "exact", None),
        (S2, None, 161, None, "at least", None),
        (S2, 800, None, None, "approximately", "Azerbaijani officials"),
        (S3, None, 200, None, "more than", None),
        (S3, 200, None, None, "widely accepted", None),
        (S3, None, 500, 1000, "range", None),
        (S4, 613, None, None, "exact", None),
        (S6, None, 161, None, "at least", "Human Rights Watch"),
        (S6, None, 200, None, "at least", "Human Rights Watch"),
        (S6, 485, None, None, "exact", "Parliament of Azerbaijan"),
        (S6, 613, None, None, "exact", "Government of Azerbaijan"),
        # the sources of "who says what", each figure as its quote states it
        ("de-waal-carnegie-2012", None, 400, None, "more than", None),
        ("time-massacre-in-khojaly-1992", 200, None, None, "exact", None),
        ("time-massacre-in-khojaly-1992", 1324,
         None, None, "exact", "the Azerbaijanis (as the 1992 press puts it)"),
        ("independent-womack-1992-03-08", None,
         1000, None, "more than", "the Azerbaijanis (as the 1992 press puts it)"),
        ("sunday-times-goltz-1992-03-01-es", None, 450, None, "more than", "survivors"),
        ("boston-globe-quinn-judge-1992-03-03", 1000, None, None, "exact", "Elmar Mamedov"),
        ("washington-post-goltz-1992-03-03", None, 1000, None, "more than", "survivors"),
        ("washington-times-killen-1992-03-03", 1000, None, None, "exact", "Azerbaijan"),
        ("trud-karabakh-tragedy-1992", None, 1000, None, "more than", None),
        ("caucasian-knot-2016", None, 600, None, "more than", None),
        ("today-az-ngo-signature-campaign-2006", 613, None, None, "exact", "Azerbaijan"),
        ("aliyev-heritage-tragedia-de-khojali", 613, None, None, "exact", None),
        ("abc-az-26-years-2018", 613, None, None, "exact", None),
        ("un-a-59-713-azerbaijan-letter-2005", 613, None, None, "exact", None),
        ("perceptiode-day-of-remembrance", 485, None, None, "exact", "Parliament of Azerbaijan"),
        ("everything-explained-khojali-massacre", None,
         200, None, "more than", "Human Rights Watch"),
        ("azernews-oic-cfm-48-2022", 613, None, None, "approximately", None),
        ("report-az-arizona-2015", None, 600, None, "more than", "Arizona State Senate"),
        ("trend-minute-of-silence-2024", 613, None, None, "exact", None),
        ("perceptiosv-khojaly-massacre", None, 161, None, "at least", "Human Rights Watch"),
        ("perceptiosv-khojaly-massacre", 485, None, None, "exact", "Parliament of Azerbaijan"),
        ("perceptiosv-khojaly-massacre", 613, None, None, "exact", "Government of Azerbaijan"),
        ("knowledger-es-justice-for-khojaly", 613, None, None, "exact", "Government of Azerbaijan"),
        ("leyla-aliyeva-24th-anniversary-2016", 613, None, None, "exact", "Leyla Aliyeva"),
    }
    in_words = {600: "six hundred", 1000: "one thousand"}  # "more than six hundred civilians"
    for r in rows:  # each figure appears in the words of its own quote
        number = r["value"] if r["value"] is not None else r["min"]
        assert (f"{number:,}" in r["quote"] or str(number) in r["quote"]
                or in_words.get(number, "\0") in r["quote"].lower()), r


def test_children_killed(store):
    rows = answer(store, "children-killed")
    assert {(r["value"], r["sourceLabel"]) for r in rows} == {
        (63, LABEL[S1]), (63, LABEL[S4]),
        # 63 against 83 (../shared/sources/CANDIDATES.md, "Where sources disagree")
        (63, "26 years have passed since Khojaly genocide committed by Armenian aggressors "
             "(abc.az, 26 February 2018)"),
        (63, "Azerbaijan keeps minute of silence honoring memory of Khojaly massacre victims "
             "(Trend, Humay Aghajanova, 26 February 2024)"),
        (83, "NGO plans signature campaign (Today.az, citing RIA Novosti, c. 2006)"),
        (83, "Tragédia de Khojali (Heydar Aliyev Heritage library, undated)"),
        (83, "List of Azerbaijani hostages in Armenia can be extended (Azerbaijan Foundation site, "
             "quoting Shahin Sayilov, undated)"),
        (83, JUSTICIA), (63, LEYLA_2016),
    }


def test_figures_by_group(store):
    rows = answer(store, "figures-by-group")
    women = {(r["sourceLabel"], r["value"]) for r in rows if r["group"] == "women"}
    elderly = {(r["sourceLabel"], r["value"]) for r in rows if r["group"] == "elderly people"}
    assert women == {(LABEL[S1], 106), (LABEL[S4], 106),
                     ("NGO plans signature campaign (Today.az, citing RIA Novosti, c. 2006)", 106),
                     (JUSTICIA, 106), (LEYLA_2016, 106)}
    assert elderly == {(LABEL[S1], 70), (LEYLA_2016, 70)}
    groups = {r["group"] for r in rows}
    assert groups == {"people", "civilians", "women", "children", "elderly people"}


def test_seed_article_figures(store):
    rows = answer(store, "seed-article-figures")
    got = {(r["counted"], r["group"], r["value"]) for r in rows}
    assert got == {
        ("killed", "people", 613),
        ("killed", "women", 106),
        ("killed", "children", 63),
        ("killed", "elderly people", 70),
        ("taken captive", "civilians", 1275),
        ("fate unknown", "people", 150),
        ("families completely wiped out", "families", 8),
        ("lost both parents", "children", 25),
        ("lost one parent", "children", 130),
    }
    unknown = next(r for r in rows if r["counted"] == "fate unknown")
    assert unknown["referenceDate"] == "2026-02-26"  # "To this day", in the 2026 article


def test_memorial_location(store):
    [row] = answer(store, "memorial-location")
    assert (row["district"], row["city"]) == ("Khatai raion", "Baku")
    assert (row["lat"], row["long"]) == (40.382991, 49.873932)
    assert row["wkt"] == "POINT(49.873932 40.382991)"
    assert row["commemorates"] == "Khojaly massacre"


def test_khankendi_name_in_1992(store):
    rows = answer(store, "khankendi-name-in-1992")
    assert {r["name"] for r in rows} == {"Stepanakert"}
    assert LABEL[S1] in {r["sourceLabel"] for r in rows}  # "called at the time Stepanakert"


def test_responsibility_by_source(store):
    rows = answer(store, "responsibility-by-source")
    assert {(r["sourceLabel"], r["agent"], r["role"], r["hedge"]) for r in rows} == {
        (LABEL[S1], "Armenian armed formations", "attacking force", None),
        (LABEL[S1], "366th Guards Motor Rifle Regiment", "supporting force", None),
        (LABEL[S3], "Karabakh Armenian forces", "attacking force", None),
        (LABEL[S3], "366th Guards Motor Rifle Regiment", "supporting force", "reportedly"),
        (LABEL[S4], "366th Guards Motor Rifle Regiment", "supporting force", None),
        ("Report on massive violations of human rights committed in the seizure of Khojaly "
         "(Memorial Human Rights Centre, Nezavisimaya Gazeta, 18 June 1992, as reproduced by "
         "justiceforkhojaly.org)", "Armenian armed formations", "attacking force", None),
    }


def test_regiment_affiliation(store):
    rows = answer(store, "regiment-affiliation")
    assert {(r["sourceLabel"], r["affiliatedWith"]) for r in rows} == {
        (LABEL[S1], "Soviet Army"),
        (LABEL[S3], "Russian Army"),
        (LABEL[S4], "Soviet Union"),
        ("Milli Majlis adopts a resolution on 25th anniversary of Khojaly genocide (Report.az, "
         "24 February 2017)", "Soviet Army"),
    }


def test_names_by_source(store):
    rows = answer(store, "names-by-source")
    assert {(r["sourceLabel"], r["term"], r["usedBy"]) for r in rows} == {
        (LABEL[S1], "Khojaly tragedy", None),
        (LABEL[S1], "genocide", None),
        (LABEL[S1], "mass killing of civilians", None),
        (LABEL[S3], "massacre", None),
        (LABEL[S4], "Khojaly Genocide", None),
        (LABEL[S6], "Khojaly massacre", "Western governments and media"),
        (LABEL[S6], "Khojaly tragedy", "Western governments and media"),
        (LABEL[S6], "Battle for Khojaly", "Western governments and media"),
        # names in other languages, from stored pages (data/texts/)
        (EN_WP, "Xocalı soyqırımı", "Azerbaijani sources"),
        (EN_WP, "Xocalı faciəsi", "Azerbaijani sources"),
        (EN_WP, "Խոջալուի արյունահեղություն", None),
        (RU_WP, "Ходжалинская резня", None),
        (RU_WP, "Xocalı faciəsi", "Azerbaijani sources"),
        ("report.az", "Khojaly Genocide Memorial", None),
        # who says what
        ("Azerbaijan observes moment of silence for Khojaly victims (AZERTAC, 26 February 2021)",
         "Khojaly genocide", None),
        (UN_2005, "Khojaly genocide", None),
        (UN_2005, "crime against humanity", None),
        ("Morgues fill as Azeris head for all-out war (Thomas Goltz, The Sunday Times, 8 March "
         "1992, as reproduced by justiceforkhojaly.org)", "massacre", None),
    }


def test_claims_with_quotes(store):
    rows = answer(store, "claims-with-quotes")
    per_source = {}
    for r in rows:
        per_source[r["sourceLabel"]] = per_source.get(r["sourceLabel"], 0) + 1
    assert per_source == {
        LABEL[S1]: 15, LABEL[S2]: 3, LABEL[S3]: 7, LABEL[S4]: 9, LABEL[S5]: 1, LABEL[S6]: 7,
        EN_WP: 3, RU_WP: 2, "report.az": 1,
        "xocali.org": 4,  # the opening dates of the memorials abroad
        **ISSUE13_CLAIMS}
    with open(ROOT / "data/texts/caliber-2026-khojaly-commemoration.txt", encoding="utf-8") as f:
        seed = f.read()
    for r in rows:
        if r["sourceLabel"] == LABEL[S1]:
            assert r["quote"] in seed


def test_missing_azerbaijani_labels(store):
    labels = {r["label"] for r in answer(store, "missing-azerbaijani-labels")}
    assert {"Armenia", "Human Rights Watch", "first Khojaly monument in Baku (1993)"} <= labels
    # the reference table gives az names for these, so they must not be listed
    assert not labels & {"Khojaly massacre", "Khojaly", "Baku", "Khatai raion", "Khankendi",
                         "Mother's Cry memorial", "366th Guards Motor Rifle Regiment"}


def test_captives_by_source(store):
    rows = answer(store, "captives-by-source")
    assert {(r["counted"], r["group"], r["value"], r["min"], r["max"],
             r["source"].removeprefix(BASE + "id/source/"), r["attributedTo"]) for r in rows} == {
        ("taken captive", "civilians", 1275, None, None, S1, None),
        ("taken captive", "residents of Khojaly", 1275, None, None, S4, None),
        ("captives handed over", "civilians", None, 700, None, S5, "Memorial Human Rights Centre"),
        ("taken captive", "civilians",
         None, None, 600, "independent-womack-1992-03-06", "Azerbaijani officials"),
        ("taken captive", "people",
         300, None, None, "boston-globe-quinn-judge-1992-03-03", "Elmar Mamedov"),
        ("taken captive", "people",
         1275, None, None, "today-az-ngo-signature-campaign-2006", "Azerbaijan"),
        ("taken captive", "people", 1275, None, None, "vestnik-kavkaza-moscow-commemoration", None),
        ("taken captive", "people", 1275, None, None, "un-a-59-713-azerbaijan-letter-2005", None),
        ("taken captive", "civilians",
         None, 1200, None, "report-az-arizona-2015", "Arizona State Senate"),
    }
    handed = next(r for r in rows if r["counted"] == "captives handed over")
    assert handed["referenceDate"] == "1992-03-28"
    # the Ministry's text dates no figure of its own, except "to this day": none is invented
    hostages = next(r for r in rows if r["sourceLabel"] == LABEL[S4])
    assert hostages["referenceDate"] is None


def test_fate_unknown(store):
    rows = answer(store, "fate-unknown")
    trend_2024 = ("Azerbaijan keeps minute of silence honoring memory of Khojaly massacre victims "
                  "(Trend, Humay Aghajanova, 26 February 2024)")
    assert [(r["value"], r["group"], r["asOf"], r["sourceLabel"]) for r in rows] == [
        (150, "people", "2005-02-24", UN_2005),  # "To this day", in the 2005 letter
        (150, "people", "2021-02-22", LABEL[S4]),
        (26, "children", "2024-02-26", trend_2024),  # "is still unknown", 2024
        (68, "women", "2024-02-26", trend_2024),
        (150, "people", "2024-02-26", trend_2024),
        (150, "people", "2026-02-26", LABEL[S1]),
    ]


def test_commemoration_2026(store):
    rows = answer(store, "commemoration-2026")
    assert {r["date"] for r in rows} == {"2026-02-26"}
    assert {r["anniversary"] for r in rows} == {34}
    assert {r["place"] for r in rows} == {"Mother's Cry memorial"}
    assert {r["act"] for r in rows} == {"laying flowers", "standing in silence", "prayer"}
    assert {r["participants"] for r in rows} == {
        "members of the intelligentsia", "public figures", "ordinary residents"}


def test_sources(store):
    rows = answer(store, "sources")
    claims = {r["label"]: r["claims"] for r in rows}
    assert {LABEL[s]: claims[LABEL[s]] for s in LABEL} == {
        LABEL[S1]: 15, LABEL[S2]: 3, LABEL[S3]: 7, LABEL[S4]: 9, LABEL[S5]: 1, LABEL[S6]: 7}
    kinds = {r["label"]: r["kind"] for r in rows}
    assert kinds[LABEL[S6]] == "secondary source" and kinds[LABEL[S3]] == "primary source"


def test_contested_figures(store):
    rows = answer(store, "contested-figures")
    got = {(r["counted"], r["group"]): (r["lowest"], r["highest"]) for r in rows}
    assert got == {
        ("killed", "people"): (161, 1000), ("killed", "civilians"): (161, 1324),
        ("killed", "children"): (63, 83),
        ("taken captive", "people"): (300, 1275), ("taken captive", "civilians"): (600, 1275),
        ("fate unknown", "people"): (150, 200),
        ("wounded, injured or disabled", "people"): (200, 1000),
        ("bodies brought to Aghdam or recovered", "people"): (31, 479),
        ("people who reached Aghdam", "people"): (500, 2000),
        ("population at a stated date", "residents of Khojaly"): (2000, 7000),
        ("population before the conflict", "residents of Khojaly"): (6000, 7000),
        ("suspects identified", "people"): (31, 39),
        ("recognitions counted", "countries or their legislatures"): (10, 23),
        ("recognitions counted", "US states"): (16, 24),
        # 8 against 6 families, 25 against 26 children (docslib.org's anonymous document)
        ("families completely wiped out", "families"): (6, 8),
        ("lost both parents", "children"): (25, 26),
    }


def test_places_with_coordinates(store):
    rows = answer(store, "places-with-coordinates")
    assert {r["label"]: (r["lat"], r["long"]) for r in rows} == {
        "Khojaly": (39.91111, 46.78917),
        "Mother's Cry memorial": (40.382991, 49.873932),
        "Baku": (40.39528, 49.88222),
        "Khatai raion": (40.383, 49.867),
        "Khankendi": (39.81528, 46.75194),
    }


def test_external_identifiers(store):
    rows = answer(store, "external-identifiers")
    same_as = {(r["label"], r["target"]) for r in rows if r["link"].endswith("#sameAs")}
    assert {("Azerbaijan", "http://www.wikidata.org/entity/Q227"),
            ("Armenia", "http://www.wikidata.org/entity/Q399"),
            ("Baku", "http://www.wikidata.org/entity/Q9248"),
            ("Azerbaijan", "https://sws.geonames.org/587116/")} <= same_as
    # DBpedia was not checked itself: never owl:sameAs
    assert not any("dbpedia.org" in target for _, target in same_as)
    matches = {(r["label"], r["target"]) for r in rows}
    assert ("Khojaly", "http://viaf.org/viaf/129162166") in matches


def test_timeline(store):
    rows = answer(store, "timeline")
    dated = [(r["date"], r["what"]) for r in rows]
    assert dated[0] == ("1992-02-25", "Khojaly massacre")
    assert ("1993", "first Khojaly monument in Baku (1993)") in dated
    assert ("2008-02-26", "Mother's Cry memorial") in dated
    assert ("2026-02-26", "34th anniversary commemoration of the Khojaly massacre") in dated


def test_examples_follow_a_configured_base(tmp_path):
    """Under another KG_BASE_IRI the examples still answer (their PREFIX lines are rewritten)."""
    other = "https://example.org/kg/"
    settings = Settings(base_iri=other, store_path=tmp_path / "store")
    build(settings)
    store = open_store(settings, read_only=True)
    rows = list(queries.run(store, "examples/children-killed", base_iri=other))
    assert {int(r["value"].value) for r in rows} == {63, 83}
    assert len(rows) == 9
    rewritten = queries.examples(other)
    assert not any(BASE in q.text for q in rewritten)
    assert sum(other in q.text for q in rewritten) >= 15


def test_every_example_declares_its_scope():
    """The benchmark tells a regression from a by-design whole-dataset cost by this header."""
    undeclared = [q.name for q in queries.examples() if q.scope not in queries.SCOPES]
    assert undeclared == []


def test_an_unknown_scope_is_refused():
    with pytest.raises(queries.KGError, match="scope"):
        queries.parse_header("x", "# scope: everything\nSELECT * {}")


def test_pending_links(store):
    """REFERENCE.md lists the only verified Wikidata identifiers (Azerbaijan, Armenia, Baku,
    Human Rights Watch and its predecessor, the Soviet Union): everything else is pending."""
    rows = answer(store, "pending-links")
    pending = {r["label"] for r in rows}
    assert {r["dataset"] for r in rows} == {"Wikidata"}
    assert {"Khojaly massacre", "Khojaly", "Khankendi", "Khatai raion", "Mother's Cry memorial",
            "366th Guards Motor Rifle Regiment", "First Nagorno-Karabakh War"} <= pending
    assert not pending & {"Azerbaijan", "Armenia", "Baku", "Soviet Union", "Human Rights Watch",
                          "Human Rights Watch/Helsinki"}


def test_seed_article_author(store):
    """REFERENCE.md S1: "By Tamilla Hasanova"; publisher Caliber.az; the date is inferred."""
    [row] = answer(store, "seed-article-author")
    assert (row["authorName"], row["publisherName"]) == ("Tamilla Hasanova", "Caliber.az")
    assert row["title"] == "Flowers and prayers in Baku as nation remembers Khojaly victims"
    assert (row["date"], row["dateInferred"]) == ("2026-02-26", "true")
    assert row["url"] == ("https://caliber.az/en/post/"
                          "flowers-and-prayers-in-baku-as-nation-remembers-khojaly-victims")


def test_former_names(store):
    """REFERENCE.md: Khankendi renamed Stepanakert in 1923; Khatai raion was Shaumyan district
    from 1932 until 5 January 1990; Khojaly named Ivanyan by the Artsakh authorities in 2001."""
    rows = answer(store, "former-names")
    got = {(r["placeLabel"], r["name"], r["validFrom"], r["validUntil"]) for r in rows}
    assert {
        ("Khankendi", "Khankendi (until 1923)", None, "1923"),
        ("Khankendi", "Stepanakert (from 1923)", "1923", None),
        ("Khatai raion", "Shaumyan district", "1932", "1990-01-05"),
        ("Khatai raion", "Khatai raion", "1990-01-05", None),
        ("Khojaly", "Ivanyan", "2001", None),
    } <= got
    ivanyan = next(r for r in rows if r["name"] == "Ivanyan")
    assert ivanyan["namedBy"] == "the Artsakh authorities"
    assert all(r["sourceLabel"] for r in rows)


def test_memorial_history(store):
    """REFERENCE.md: a first, smaller monument in 1993; the current one unveiled on 26 February
    2008, 8.6 m, bronze and granite, by Aslan, Mahmud and Teymur Rustamov."""
    [row] = answer(store, "memorial-history")
    assert (row["memorial"], row["created"]) == ("Mother's Cry memorial", "2008-02-26")
    assert (row["first"], row["firstCreated"]) == ("first Khojaly monument in Baku (1993)", "1993")
    assert (row["height"], row["unit"]) == (8.6, "m")
    assert set(row["materials"].split(", ")) == {"bronze", "granite"}
    assert set(row["sculptors"].split(", ")) == {
        "Aslan Rustamov", "Mahmud Rustamov", "Teymur Rustamov"}


def test_unclaimed_figures(store):
    """No number hangs on the event outside a claim; one stated directly would be listed."""
    assert answer(store, "unclaimed-figures") == []
    from pyoxigraph import Quad, Store

    scratch = Store()
    scratch.extend(store.quads_for_pattern(None, None, None, None))
    event = NamedNode(BASE + "id/event/khojaly-massacre")
    scratch.add(Quad(event, NamedNode("https://schema.org/value"), Literal(613),
                     NamedNode(BASE + "graph/event/khojaly-massacre")))
    rows = answer(scratch, "unclaimed-figures")
    assert [(r["property"], r["value"]) for r in rows] == [("https://schema.org/value", 613)]


# -- who says what: expected answers read off ../shared/sources/CANDIDATES.md -------


def test_independent_observers(store):
    """Memorial's bodies examined and brought to Aghdam, the 1992 press's figures and the
    official 613 stand in one answer, each with its source's perspective."""
    rows = answer(store, "independent-observers")
    got = {(r["perspective"], r["counted"], r["value"], r["min"]) for r in rows}
    assert {
        ("international NGO", "bodies examined", 181, None),
        ("international NGO", "bodies brought to Aghdam or recovered", 200, None),
        ("international press, 1992", "killed", 200, None),  # TIME's headline
        ("international press, 1992", "killed", 1324, None),  # "the Azerbaijanis claim"
        ("international press, 1992", "bodies brought to Aghdam or recovered", 479, None),
        ("international press, 1992", "bodies seen at the scene", 31, None),
        ("scholar", "killed", None, 400),  # de Waal 2012
        ("Azerbaijani government", "killed", 613, None),
    } <= got
    memorial = [r for r in rows if r["counted"] == "bodies examined"]
    assert {r["attributedTo"] for r in memorial} == {"Memorial Human Rights Centre"}
    assert all(r["quote"] for r in rows)


def test_competing_accounts(store):
    rows = answer(store, "competing-accounts")
    corridor = {(r["position"], r["attributedTo"]) for r in rows
                if r["question"].startswith("Was a corridor")}
    assert ("a corridor was kept open by the Armenians", "Ayaz Mutalibov") in corridor
    assert ("only one exit out of the town was open", "Thomas de Waal") in corridor
    assert ("Memorial questioned 60 people who fled the town",
            "Memorial Human Rights Centre") in corridor
    fired = {(r["position"], r["perspective"]) for r in rows
             if r["question"] == "Who killed the civilians?"}
    assert ("fleeing residents were fired upon at Armenian military posts",
            "international NGO") in fired
    assert ("armed units of the Popular Front of Azerbaijan fired on the column",
            "Armenian media") in fired
    assert ("the National (Popular) Front of Azerbaijan organised the events",
            "Armenian officials") in fired
    # the answer links: the Popular Front account answers Human Rights Watch's
    answered = {r["answers"] for r in rows if r["position"].startswith("armed units")}
    assert answered == {"Human Rights Watch (1992): fleeing residents approached Armenian "
                        "military posts and were fired upon"}


def test_recognitions(store):
    rows = answer(store, "recognitions")
    got = {(r["body"], r["kind"], r["document"], r["adopted"]) for r in rows}
    assert {
        ("Foreign Relations committee of the Chamber of Deputies of Mexico",
         "committee of a legislature", None, "2011-12-08"),
        ("Committee on Foreign Relations of the Senate of Pakistan",
         "committee of a legislature", None, "2012-02-01"),
        ("parliament of Honduras", "national legislature", "333-2013", "2014-02-13"),
        ("parliament of Panama", "national legislature", "4", "2013-08-07"),
        ("Council of Foreign Ministers of the Organization of Islamic Cooperation",
         "international organisation or its organ", "8/42-C", "2015-05"),
        ("Council of Foreign Ministers of the Organization of Islamic Cooperation",
         "international organisation or its organ", "47/49-POL", "2023"),
        ("Arizona State Senate", "sub-national legislature", None, "2015-02-25"),
        ("European Court of Human Rights", "court", None, "2010-04-22"),
    } <= got
    oic = {(r["adopted"], r["term"]) for r in rows if r["body"].startswith("Council of Foreign")}
    assert {("2011-06", "جرائم حرب"), ("2012-11-20", "genocide"),
            ("2023", "war crimes"), ("2023", "crimes against humanity")} <= oic
    summit = {r["term"] for r in rows if r["body"].startswith("Islamic Summit")}
    assert "genocidal act" in summit
    echr = next(r for r in rows if r["body"] == "European Court of Human Rights")
    assert echr["sourceLabel"].startswith("Justice for Khojaly, page 29 (Heydar Aliyev Foundation")


def test_recognition_counts(store):
    rows = answer(store, "recognition-counts")
    got = {(r["group"], r["value"], r["min"], r["qualifier"]) for r in rows}
    assert got == {
        ("countries or their legislatures", None, 10, "more than"),  # embassy; azerbaijan.az
        ("countries or their legislatures", 16, None, "exact"),  # AZERTAC 2018
        ("countries or their legislatures", 17, None, "exact"),  # karabakh.center
        ("countries or their legislatures", 23, None, "exact"),  # Gunaz TV
        ("US states", 16, None, "exact"),  # Turan 2015: Arizona the 16th
        ("US states", 20, None, "exact"),
        ("US states", 21, None, "exact"),
        ("US states", 24, None, "exact"),
        ("documents of an organisation", 13, None, "exact"),
    }
    assert len(rows) == 10


def test_memorials_abroad(store):
    rows = answer(store, "memorials-abroad")
    dated = {(r["thing"], r["place"], r["stated"]) for r in rows if r["stated"]}
    assert {
        ("Khojaly monument in The Hague", "The Hague", "2007"),  # APA 2020
        ("Khojaly monument in The Hague", "The Hague", "2008-02-24"),  # xocali.org
        ("Khojaly memorial in Sarajevo", "Sarajevo", "2012-02-25"),  # xocali.org
        ("Khojaly memorial in Sarajevo", "Sarajevo", "2012-02"),  # English Wikipedia
        ("Khojaly monument in Berlin", "Berlin", "2011-05-30"),
        ("Khojaly memorial in Mexico City", "Mexico City", "2012-08-23"),
        ('"Justice for Khojaly" campaign', None, "2008-05-08"),
        ('"Justice for Khojaly" campaign', None, "2008-05"),
        ('"Justice for Khojaly" campaign', None, "2009-02"),
    } <= dated
    positions = {r["position"] for r in rows}
    assert "Sarajevo: opened on 24 February (no year in the excerpt)" in positions
    assert 'The Hague: "Europe\'s only monument"' in positions
    assert 'Mexico City: the word "genocide" to be removed from the plaque (January 2013)' in (
        positions)


def test_investigation(store):
    rows = answer(store, "investigation")
    suspects = {(r["value"], r["attributedTo"]) for r in rows if r["value"] is not None}
    assert suspects == {(39, "Parliament of Azerbaijan"),
                        (39, "Military Prosecutor's Office of Azerbaijan"),
                        (31, "Shahin Sayilov")}
    assert any("18 December 2003" in r["what"] for r in rows)


def test_disputed_questions(store):
    """Every question of the scheme has claims giving at least two different answers."""
    rows = answer(store, "disputed-questions")
    answers: dict[str, set] = {}
    for r in rows:
        answers.setdefault(r["question"], set()).add(r["answer"])
    assert len(answers) == 17
    single = {q for q, a in answers.items() if len(a) < 2}
    assert single == set()
    assert all(r["sourceLabel"] and r["quote"] for r in rows)

// The browser's second sanitising layer (views/panes.js): what it drops from HTML the
// server already cleaned with nh3, in case something gets through. Node has no HTML parser,
// so the elements here are what a browser's parser makes of the markup in each comment
// (entities such as &#9; decoded, SVG names in their SVG case).

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { safeUrl as templateSafeUrl } from "../../docsync/static/docsync/views/formatters.js";
import { droppedElement, safeUrl, scrub, unsafeAttribute } from "../../docsync/static/docsync/views/panes.js";

/** A parsed element as far as scrub() looks at it. */
class FakeElement {
  constructor(localName, attributes = {}, children = []) {
    this.localName = localName;
    this.attrs = new Map(Object.entries(attributes));
    this.children = children;
    this.removed = false;
  }
  get attributes() {
    return [...this.attrs].map(([name, value]) => ({ name, value }));
  }
  removeAttribute(name) {
    this.attrs.delete(name);
  }
  remove() {
    this.removed = true;
  }
}

/** A parsed fragment holding ``elements`` (and their descendants, in document order). */
function fragment(...elements) {
  const all = [];
  const walk = (el) => {
    all.push(el);
    el.children.forEach(walk);
  };
  elements.forEach(walk);
  return { querySelectorAll: (selector) => (selector === "*" ? all : assert.fail(selector)) };
}

const BYPASSES = [
  "java\tscript:alert(1)", // java&#9;script:
  "java\nscript:alert(1)", // java&#10;script:
  "java\rscript:alert(1)",
  "\u0001javascript:alert(1)", // &#1;javascript:
  " \t\njavascript:alert(1)",
  "\u0000javascript:alert(1)",
  "jav\u0000ascript:alert(1)",
  "JaVaScRiPt:alert(1)",
  "javascript\t:alert(1)",
  "vbscript:msgbox(1)",
  "data:text/html,<script>alert(1)</script>",
  "\x0cdata:text/html,x",
];

describe("link addresses in sanitised HTML", () => {
  it("use the one client rule, the cell templates' safeUrl", () => {
    assert.equal(templateSafeUrl, safeUrl);
  });

  it("refuse javascript:, data: and vbscript: however they are spelled", () => {
    for (const url of BYPASSES) {
      assert.ok(!safeUrl(url), JSON.stringify(url));
      for (const name of ["href", "src", "xlink:href", "action", "formaction", "HREF", "XLink:Href"]) {
        assert.ok(unsafeAttribute(name, url), `${name}=${JSON.stringify(url)}`);
      }
    }
  });

  it("keep http(s), mailto, tel and relative addresses", () => {
    for (const url of ["https://example.com/x", " http://a", "mailto:a@b.c", "tel:+441234", "/fruit/3", "fruit?id=3", "#top"]) {
      assert.ok(safeUrl(url), url);
      assert.ok(!unsafeAttribute("href", url), url);
      assert.ok(!unsafeAttribute("xlink:href", url), url);
    }
    assert.ok(unsafeAttribute("href", "blob:https://a/b")); // any other scheme is refused too
    assert.ok(!unsafeAttribute("title", "javascript:alert(1)")); // text, not a URL
    assert.ok(unsafeAttribute("onclick", "x()"));
    assert.ok(unsafeAttribute("OnMouseOver", "x()"));
    assert.ok(unsafeAttribute("style", "background:url(x)"));
  });
});

describe("scrub", () => {
  it("drops SVG animation that could rewrite a link, whatever its case", () => {
    // <svg><a href="#"><animate attributeName="href" values="javascript:alert(1)"/><set .../>
    //   <animateTransform .../><animateMotion .../><text>x</text></a></svg>
    const animate = new FakeElement("animate", { attributeName: "href", values: "javascript:alert(1)" });
    const set = new FakeElement("set", { attributeName: "href", to: "javascript:alert(1)" });
    const transform = new FakeElement("animateTransform", { attributeName: "transform", type: "scale" });
    const motion = new FakeElement("animateMotion", { path: "M0,0" });
    const text = new FakeElement("text");
    const link = new FakeElement("a", { href: "#" }, [animate, set, transform, motion, text]);
    scrub(fragment(new FakeElement("svg", {}, [link])));
    for (const el of [animate, set, transform, motion]) assert.ok(el.removed, el.localName);
    assert.ok(!text.removed && !link.removed);
    assert.equal(link.attrs.get("href"), "#");
    for (const name of ["ANIMATE", "Set", "animatetransform", "animateColor", "discard", "script", "iframe"]) {
      assert.ok(droppedElement(name), name);
    }
    for (const name of ["a", "svg", "text", "img", "p"]) assert.ok(!droppedElement(name), name);
  });

  it("removes every known bypass from links, images and SVG links", () => {
    for (const url of BYPASSES) {
      // <a href="java&#9;script:..."> <img src=...> <svg><a xlink:href=...> <svg><use href=...>
      const els = [
        new FakeElement("a", { href: url, title: "kept" }),
        new FakeElement("img", { src: url, alt: "kept" }),
        new FakeElement("a", { "xlink:href": url }),
        new FakeElement("use", { href: url }),
      ];
      scrub(fragment(...els));
      for (const el of els) {
        const urls = [...el.attrs.keys()].filter((name) => !["title", "alt"].includes(name));
        assert.deepEqual(urls, [], `${el.localName} ${JSON.stringify(url)}`);
      }
      assert.equal(els[0].attrs.get("title"), "kept");
      assert.equal(els[1].attrs.get("alt"), "kept");
    }
  });
});

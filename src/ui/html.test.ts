import { describe, expect, it } from 'vitest';
import { escapeHtml, html, SafeHtml } from './html.js';

describe('escapeHtml', () => {
  it('escapes & < > " and \'', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('escapes & first, so entities in the input stay visible as text', () => {
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  it('leaves other text alone', () => {
    expect(escapeHtml('caf\u00e9 / 100% = `ok`')).toBe('caf\u00e9 / 100% = `ok`');
  });
});

describe('html``', () => {
  it('escapes interpolated strings', () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<p>${name}</p>`.value).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>');
  });

  it('escapes inside attributes, so a value cannot close the attribute', () => {
    const value = `" onmouseover="alert(1)`;
    expect(html`<input value="${value}">`.value).toBe('<input value="&quot; onmouseover=&quot;alert(1)">');
    expect(html`<input value='${"' autofocus x='"}'>`.value).toBe(`<input value='&#39; autofocus x=&#39;'>`);
  });

  it('does not escape the template itself', () => {
    expect(html`<a href="/x">&amp;</a>`.value).toBe('<a href="/x">&amp;</a>');
  });

  it('does not escape nested html`` a second time', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}</p>`.value).toBe('<p><b>&lt;i&gt;</b></p>');
  });

  it('passes SafeHtml through untouched', () => {
    expect(html`${new SafeHtml('<hr>')}`.value).toBe('<hr>');
  });

  it('renders arrays by concatenating their escaped items', () => {
    const items = ['a&b', '<c>'];
    expect(html`<ul>${items.map((item) => html`<li>${item}</li>`)}</ul>`.value).toBe('<ul><li>a&amp;b</li><li>&lt;c&gt;</li></ul>');
    expect(html`${['<', html`<br>`, ['>']]}`.value).toBe('&lt;<br>&gt;');
  });

  it('renders null, undefined and false as nothing', () => {
    expect(html`[${null}|${undefined}|${false}]`.value).toBe('[||]');
    const signedIn = false;
    expect(html`<nav>${signedIn && html`<a href="/logout">out</a>`}</nav>`.value).toBe('<nav></nav>');
  });

  it('renders numbers, zero and true as text', () => {
    expect(html`${0}|${42}|${true}`.value).toBe('0|42|true');
  });

  it('returns SafeHtml whose string form is the markup', () => {
    const result = html`<p>${'x'}</p>`;
    expect(result).toBeInstanceOf(SafeHtml);
    expect(String(result)).toBe('<p>x</p>');
  });
});

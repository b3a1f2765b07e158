/**
 * The one stylesheet of the pages: served from /assets/gatehouse.css, no inline styles (CSP). A
 * configured brand colour is appended as custom properties (ui/theme.ts). The focus ring (`--focus`)
 * is fixed per colour scheme, whatever the brand: #1b1f24 on the light backgrounds, #ffbf47 on the
 * dark ones, both above 3:1 (WCAG 1.4.11).
 */
export const stylesheet = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #f6f7f9; --card: #fff; --muted: #57606a; --accent: #0b5cad; --accent-fg: #fff; --link: #0b5cad; --danger: #b42318; --ok: #1a7f37; --border: #d0d7de; --focus: #1b1f24; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --card: #161b22; --muted: #9da7b3; --accent: #4493f8; --accent-fg: #0d1117; --link: #4493f8; --danger: #ff7b72; --ok: #3fb950; --border: #30363d; --focus: #ffbf47; } }
* { box-sizing: border-box; }
html { font-size: 100%; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: var(--card); padding: .5rem; }
header.site { padding: 1rem; border-bottom: 1px solid var(--border); background: var(--card); display: flex; justify-content: space-between; align-items: center; gap: 1rem; flex-wrap: wrap; }
header.site a.brand { font-weight: 700; color: var(--fg); text-decoration: none; display: inline-flex; align-items: center; gap: .5rem; }
header.site img.logo { height: 2rem; width: auto; max-width: 10rem; }
header.site nav { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
main.wide { max-width: 56rem; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: .5rem; padding: 1.5rem; margin-bottom: 1.5rem; }
h1 { font-size: 1.6rem; margin-top: 0; } h2 { font-size: 1.2rem; margin-top: 0; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
label.inline { display: flex; gap: .5rem; align-items: center; font-weight: 400; }
input[type=email], input[type=password], input[type=text] { width: 100%; padding: .6rem; font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--muted); border-radius: .35rem; }
.hint { color: var(--muted); font-size: .9rem; margin: .25rem 0 0; }
.field-error { color: var(--danger); font-size: .9rem; font-weight: 600; margin: .25rem 0 0; }
input[aria-invalid=true] { border-color: var(--danger); }
button { font: inherit; padding: .6rem 1.1rem; border-radius: .35rem; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; margin-top: 1rem; }
button.secondary { background: transparent; color: var(--link); border-color: var(--link); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); margin-top: 0; white-space: nowrap; }
td time { white-space: nowrap; }
a.button { display: inline-block; text-decoration: none; padding: .6rem 1.1rem; border-radius: .35rem; border: 1px solid var(--accent); margin: .5rem .5rem 0 0; }
a.button.secondary { color: var(--link); border-color: var(--link); }
.providers { margin-top: 1rem; }
button.link { background: none; border: none; color: var(--link); padding: 0; margin: 0; text-decoration: underline; }
a { color: var(--link); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.alert { padding: .75rem 1rem; border-radius: .35rem; border: 1px solid var(--danger); color: var(--danger); margin-bottom: 1rem; }
.notice { padding: .75rem 1rem; border-radius: .35rem; border: 1px solid var(--ok); color: var(--ok); margin-bottom: 1rem; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .5rem .4rem; border-bottom: 1px solid var(--border); vertical-align: top; }
.tag { display: inline-block; font-size: .8rem; padding: 0 .4rem; border-radius: 1rem; border: 1px solid var(--ok); color: var(--ok); }
form.inline { display: inline; }
@media (max-width: 36rem) { thead { display: none; } tr, td { display: block; } td { border: none; padding: .15rem 0; } td[data-label]::before { content: attr(data-label); color: var(--muted); } tr { border-bottom: 1px solid var(--border); padding: .5rem 0; } }
.alert.form-error:focus { outline: 3px solid var(--focus); outline-offset: 2px; }
`;

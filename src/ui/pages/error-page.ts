import { html } from '../html.js';
import { layout } from '../layout.js';

export interface ErrorPageModel {
  status: number;
  title: string;
  message: string;
}

export function errorPage(model: ErrorPageModel): string {
  return layout({
    title: model.title,
    body: html`<div class="card">
<h1>${model.title}</h1>
<p>${model.message}</p>
<p><a href="/">Go to the start page</a></p>
</div>`,
  });
}

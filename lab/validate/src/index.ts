/**
 * The learner's Validate, in Chinese.
 *
 * nbgrader's Validate plug-in (@jupyter/nbgrader:validate-assignment) writes its dialog in
 * English ("Validation Results", "The following cell failed:") and cannot be translated. This
 * package disables it (package.json, jupyterlab.disabledExtensions) and puts a "验证" button in
 * the notebook toolbar instead. The Validate buttons of nbgrader's Assignments list (a fetched
 * exercise's notebooks, on the hub) would open the same English dialog: their clicks are taken
 * before nbgrader's handler sees them and validated here too. Either way the notebook is saved
 * if it is open, its path is POSTed to nbgrader's own
 * validate endpoint (the same server code, with the Chinese messages of the course's
 * nbgrader_config.py) and shows the result in Chinese: what Validate checks (format, not whether
 * an answer is right), then each question to fix, by its number, with the Chinese hint of its
 * first failing cell. Never a traceback: an unexpected error shows its last line only.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, showDialog, ToolbarButton } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

/** What Validate checks, said before every result. */
const SCOPE =
  '“验证”会从头运行整个笔记本，只检查每道题是否作答、写法是否正确、能否运行，不检查答案对不对。';

/** A question's number, as the exercises' headings write it (the rule of kamlib.selfstudy). */
const QUESTION = /第\s*(\d+)\s*题/;

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** One cell in nbgrader's validate result. */
interface ICellResult {
  source: string;
  raw_error?: string;
  error?: string;
  old_type?: string;
  new_type?: string;
}

/** nbgrader's validate result (see nbgrader.validator.Validator.validate). */
interface IValidation {
  failed?: ICellResult[];
  changed?: ICellResult[];
  type_changed?: ICellResult[];
  passed?: ICellResult[];
}

/** The reply of POST assignments/validate. */
interface IReply {
  success: boolean;
  value: IValidation | string;
}

const CELL_TYPE: Record<string, string> = { code: '代码单元格', markdown: '文字单元格', raw: '原始单元格' };

/** A notebook's cells, in order: what labels a result with its question. */
interface ICells {
  sources: string[];
  types: string[];
}

/** The cells of an open notebook. */
function cellsOfModel(model: INotebookModel): ICells {
  const cells: ICells = { sources: [], types: [] };
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    cells.sources.push(cell.sharedModel.getSource());
    cells.types.push(cell.type);
  }
  return cells;
}

/** The cells of the notebook saved at `path` (as the server reads it). */
async function cellsOfFile(app: JupyterFrontEnd, path: string): Promise<ICells> {
  const file = await app.serviceManager.contents.get(path, { type: 'notebook', content: true });
  const cells: ICells = { sources: [], types: [] };
  for (const cell of (file.content?.cells ?? []) as { source: string | string[]; cell_type: string }[]) {
    cells.sources.push(Array.isArray(cell.source) ? cell.source.join('') : cell.source);
    cells.types.push(cell.cell_type);
  }
  return cells;
}

/** "第 N 题" for the cell at `index`: the nearest heading above it that names a question. */
function labelOf(sources: string[], types: string[], index: number): string {
  for (let i = index; i >= 0; i--) {
    const found = types[i] === 'markdown' ? QUESTION.exec(sources[i]) : null;
    if (found) {
      return `第 ${found[1]} 题`;
    }
  }
  return `第 ${index + 1} 个单元格`;
}

/** The Chinese hint of a failed cell: kamlib.slips' explanation, or the error's last line. */
function hintOf(cell: ICellResult): string {
  const text = (cell.raw_error ?? cell.error ?? '').replace(ANSI, '').trim();
  if (text.startsWith('You did not provide a response')) {
    return '这道题还没有作答：请在作答单元格里写下你的答案。';
  }
  if (text.startsWith('Partial credit')) {
    return '这道题的检查只通过了一部分：请按检查单元格的提示修改答案。';
  }
  const explained = /✘\s*([^\n]+)/.exec(text);
  if (explained) {
    return explained[1].trim();
  }
  const last = text.split('\n').map(line => line.trim()).filter(Boolean).pop();
  return last
    ? `运行出错（${last}）：请看这个单元格下面的报错，改好后再验证。`
    : '这个单元格运行时有报错输出：请看单元格下面的输出，改好后再验证。';
}

/** One sentence: the question's label, then its hint (which may already start with it). */
function sentence(label: string, hint: string): string {
  if (hint.startsWith(label)) {
    return hint;
  }
  if (hint.startsWith('这道题')) {
    return label + hint.slice('这道题'.length);
  }
  return `${label}：${hint}`;
}

/** Each cell of `results` matched to its place in the notebook, labelled; one line per label. */
function lines(cells: ICells, results: ICellResult[], say: (label: string, cell: ICellResult) => string): string[] {
  const { sources, types } = cells;
  const used = new Set<number>();
  const byLabel = new Map<string, string>();
  for (const result of results) {
    const index = sources.findIndex((s, i) => !used.has(i) && s.trim() === result.source.trim());
    used.add(index);
    const label = index >= 0 ? labelOf(sources, types, index) : '一个单元格';
    if (!byLabel.has(label)) {
      byLabel.set(label, say(label, result));
    }
  }
  return [...byLabel.values()];
}

function paragraph(text: string, className?: string): HTMLElement {
  const p = document.createElement('p');
  p.textContent = text;
  if (className) {
    p.className = className;
  }
  return p;
}

function list(items: string[]): HTMLElement {
  const ul = document.createElement('ul');
  for (const item of items) {
    const li = document.createElement('li');
    li.textContent = item;
    ul.append(li);
  }
  return ul;
}

/** The dialog's title and body for nbgrader's reply, and whether the notebook passed. */
function render(cells: ICells, reply: IReply): { title: string; body: HTMLElement; passed: boolean } {
  const body = document.createElement('div');
  body.className = 'kam-Validate';
  if (!reply.success || typeof reply.value === 'string') {
    const last = String(reply.value).trim().split('\n').pop() ?? '';
    body.append(
      paragraph('验证程序出错，没能检查这个笔记本。请保存后再试一次；仍然出错时请告诉讲师。', 'kam-Validate-failed'),
      paragraph(`（技术信息：${last}）`, 'kam-Validate-detail')
    );
    return { title: '验证没能完成', body, passed: false };
  }
  const result = reply.value;
  body.append(paragraph(SCOPE, 'kam-Validate-scope'));
  if (result.type_changed?.length) {
    body.append(
      paragraph('下面这些单元格的类型被改动过（代码单元格和文字单元格不能互换），请改回原来的类型：', 'kam-Validate-failed'),
      list(
        lines(cells, result.type_changed, (label, cell) => {
          const was = CELL_TYPE[cell.new_type ?? ''] ?? cell.new_type;
          const now = CELL_TYPE[cell.old_type ?? ''] ?? cell.old_type;
          return `${label}：原来是${was}，现在是${now}。`;
        })
      )
    );
    return { title: '验证未通过', body, passed: false };
  }
  if (result.changed?.length) {
    body.append(
      paragraph('下面这些只读单元格被改动过。评分时会按原样恢复并重新运行它们，请不要修改只读单元格：', 'kam-Validate-failed'),
      list(lines(cells, result.changed, label => `${label}的只读单元格被改动过。`))
    );
    return { title: '验证未通过', body, passed: false };
  }
  if (result.failed?.length) {
    const items = lines(cells, result.failed, (label, cell) => sentence(label, hintOf(cell)));
    body.append(
      paragraph(`有 ${items.length} 处要修改，改好后再验证：`, 'kam-Validate-failed'),
      list(items)
    );
    return { title: '验证未通过', body, passed: false };
  }
  body.append(
    paragraph('格式检查通过：每道题都已作答，写法正确，所有单元格都能运行。', 'kam-Validate-passed'),
    paragraph('答案对不对，由讲师评分时判定；自学版练习的检查单元格会直接告诉你对错。')
  );
  return { title: '验证通过', body, passed: true };
}

/**
 * Save the notebook at `path` if it is open, validate it on the server, show the result;
 * whether it passed.
 */
async function validate(app: JupyterFrontEnd, notebooks: INotebookTracker, path: string): Promise<boolean> {
  const waiting = new Dialog({
    title: '正在验证…',
    body: '正在保存并从头运行这个笔记本，大约需要半分钟。',
    buttons: [],
    hasClose: false
  });
  void waiting.launch();
  let reply: IReply;
  let cells: ICells = { sources: [], types: [] };
  try {
    const open = notebooks.find(panel => panel.context.path === path);
    if (open) {
      await open.context.save();
    }
    const settings = ServerConnection.makeSettings();
    const response = await ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, 'assignments/validate'),
      { method: 'POST', body: JSON.stringify({ path }) },
      settings
    );
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    reply = (await response.json()) as IReply;
    cells = open?.model ? cellsOfModel(open.model) : await cellsOfFile(app, path);
  } catch (error) {
    reply = { success: false, value: String(error) };
  } finally {
    waiting.dispose();
  }
  const { title, body, passed } = render(cells, reply);
  await showDialog({ title, body: new Widget({ node: body }), buttons: [Dialog.okButton({ label: '确定' })] });
  return passed;
}

/** A Validate button of nbgrader's Assignments list: in the row of a fetched exercise's notebook. */
const LISTED_VALIDATE = '.assignment-notebooks .nested_list_item .item_status button';

/** One exercise in nbgrader's assignment listing (GET assignments?course_id=…). */
interface IListedAssignment {
  assignment_id: string;
  status: string;
  notebooks?: { notebook_id: string; path: string }[];
}

/**
 * The path of the notebook a listed Validate button stands for. The list shows the course, the
 * exercise and the notebook's name; nbgrader's listing of that course gives its path.
 */
async function listedPath(button: Element): Promise<string> {
  const notebook = button.closest('.nested_list_item')?.querySelector('.item_name a')?.textContent?.trim();
  const exercise = button.closest('.assignment-notebooks')?.parentElement;
  const assignment = exercise?.querySelector('.assignment-notebooks-link')?.textContent?.trim();
  const course = exercise?.querySelector('.item_course')?.textContent?.trim();
  if (!notebook || !assignment || !course) {
    throw new Error('the Assignments list changed its layout');
  }
  const settings = ServerConnection.makeSettings();
  const response = await ServerConnection.makeRequest(
    URLExt.join(settings.baseUrl, 'assignments') + URLExt.objectToQueryString({ course_id: course }),
    {},
    settings
  );
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  const listing = (await response.json()) as { value?: IListedAssignment[] };
  for (const listed of listing.value ?? []) {
    if (listed.assignment_id === assignment && listed.status === 'fetched') {
      const found = listed.notebooks?.find(nb => nb.notebook_id === notebook);
      if (found) {
        return found.path;
      }
    }
  }
  throw new Error(`${assignment}/${notebook} is not in the listing of ${course}`);
}

/** Validate the notebook of a listed Validate button; colour the button as nbgrader does. */
async function validateListed(app: JupyterFrontEnd, notebooks: INotebookTracker, button: HTMLElement): Promise<void> {
  let path: string;
  try {
    path = await listedPath(button);
  } catch (error) {
    const { title, body } = render({ sources: [], types: [] }, { success: false, value: String(error) });
    await showDialog({ title, body: new Widget({ node: body }), buttons: [Dialog.okButton({ label: '确定' })] });
    return;
  }
  button.setAttribute('disabled', 'disabled');
  try {
    const passed = await validate(app, notebooks, path);
    button.classList.remove('btn-default', 'btn-success', 'btn-danger');
    button.classList.add(passed ? 'btn-success' : 'btn-danger');
  } finally {
    button.removeAttribute('disabled');
  }
}

/** The "验证" button of every notebook's toolbar. */
class ValidateButtonExtension implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel> {
  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly notebooks: INotebookTracker
  ) {}

  createNew(panel: NotebookPanel): IDisposable {
    const button = new ToolbarButton({
      className: 'kam-ValidateButton',
      label: '验证',
      tooltip: '检查每道题是否作答、写法是否正确、能否运行（不检查答案对不对）',
      onClick: () => void validate(this.app, this.notebooks, panel.context.path)
    });
    // Where nbgrader put its Validate: before the toolbar's spacer, after the cell type menu.
    let index = 0;
    for (const item of panel.toolbar.children()) {
      if (item.node.classList.contains('jp-Toolbar-spacer')) {
        break;
      }
      index++;
    }
    panel.toolbar.insertItem(index, 'kam-validate', button);
    return button;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@kam-course/validate:plugin',
  description: 'The learner\'s Validate in Chinese (replaces nbgrader\'s validate-assignment plug-in and its Assignments list dialog).',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker) => {
    app.docRegistry.addWidgetExtension('Notebook', new ValidateButtonExtension(app, notebooks));
    // Captured on the way down, so nbgrader's own click handler (its English dialog) never runs.
    document.addEventListener(
      'click',
      event => {
        const button = (event.target as Element | null)?.closest?.(LISTED_VALIDATE);
        if (button instanceof HTMLElement) {
          event.preventDefault();
          event.stopPropagation();
          void validateListed(app, notebooks, button);
        }
      },
      true
    );
  }
};

export default plugin;

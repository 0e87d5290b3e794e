// Constants, the app's state, and the page elements it renders into.

export const AUTH_KEY = 'taskapi.auth';
export const DEFAULT_SORT = '-created_at';
export const DEFAULT_LIMIT = 50;
export const PAGE_SIZES = [25, 50, 100, 250, 1000];
export const SORTS = ['-created_at', 'created_at', 'due_date', '-due_date', '-priority', 'priority', 'title', '-title', '-updated_at'];
export const PRIORITIES = ['low', 'medium', 'high'];
export const STATUSES = ['all', 'active', 'completed'];
export const PRIORITY_LABEL = { low: 'Low', medium: 'Medium', high: 'High' };
export const FIELD_LABEL = {
  title: 'Title', description: 'Description', priority: 'Priority', due_date: 'Due date',
  category_id: 'Category', completed: 'Completed', email: 'Email', password: 'Password',
  name: 'Name', color: 'Colour', q: 'Search', sort: 'Sort', limit: 'Page size', offset: 'Page',
  tags: 'Tags', tag: 'Tag', parent_id: 'Parent task', recurrence: 'Repeat',
};
export const DEFAULT_COLOR = '#3B82F6';

export const VIEWS = ['all', 'today', 'upcoming'];
export const defaultFilters = (sort = DEFAULT_SORT, view = 'all') => ({ view, status: 'all', q: '', priority: '', category_id: '', tags: [], topLevel: false, sort });

export const state = {
  auth: null,
  tasks: [],
  total: 0,
  categories: [],
  catById: new Map(),
  catsLoaded: false,
  filters: defaultFilters(),
  limit: DEFAULT_LIMIT,
  offset: 0,
  editingId: null,
  loadSeq: 0,
  loadCtl: null,
  pending: new Set(),
  pendingDeletes: new Map(), // id -> {task, index}: deleted on screen, DELETE not sent yet (undo)
  loadedOnce: false,
  tags: [], // [{name, count}] of the user, for autocomplete and the tag panel
  subtasks: new Map(), // parent id -> {gen, items}: the subtasks of parents on screen
  subtaskGen: 0, // bumped on every list load: older entries are refetched when seen
  parentTitles: new Map(), // parent id -> title, for subtasks listed without their parent
};

/** Elements by role, looked up once by `bindElements` when the page is ready. */
export const els = {};

const ELEMENT_IDS = {
  announcer: 'announcer', authView: 'auth-view', appView: 'app-view', account: 'account',
  accountName: 'account-name', authHeading: 'auth-heading', authIntro: 'auth-intro',
  authNotice: 'auth-notice', loginForm: 'login-form', signupForm: 'signup-form',
  taskForm: 'task-form', newCategory: 'new-category', filters: 'filters', list: 'task-list',
  listError: 'list-error', empty: 'empty', count: 'task-count', tasksHeading: 'tasks-heading',
  pager: 'pager', prev: 'page-prev', next: 'page-next', pageInfo: 'page-info', pageSize: 'page-size',
  catList: 'category-list', catEmpty: 'category-empty', catForm: 'category-form', toast: 'toast',
  toastText: 'toast-text', toastAction: 'toast-action', toastClose: 'toast-close', logout: 'logout',
  liveStatus: 'live-status', quickPreview: 'quick-preview', taskDetails: 'task-details', fab: 'fab',
  views: 'views', viewsToggle: 'views-toggle', viewTitle: 'view-title', shortcuts: 'shortcuts', tagList: 'tag-list', tagEmpty: 'tag-empty', tagFilter: 'tag-filter', tagOptions: 'tag-options',
};

export function bindElements() {
  for (const [key, id] of Object.entries(ELEMENT_IDS)) els[key] = document.getElementById(id);
}

// One entry of a ContextMenu, apart from the component so that the menus' contents (resource-menu.ts)
// are plain data a unit test can check without React.
export interface MenuItem {
  id: string;
  label: string;
  shortcut?: string;
  disabled?: boolean;
  /** Why it is disabled, when that is not obvious (the role it needs). */
  title?: string;
  danger?: boolean;
  run: () => void;
}

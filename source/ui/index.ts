// The UI's public surface, for source/cli.
export {renderApp, NOT_A_TTY_MESSAGE} from './render-app.js';
export {App, type AppProps} from './components/App.js';
export type {MilestoneInfo, StepInfo} from './milestone-info.js';
export {initialUiState, reduceUi, type UiState, type UiAction} from './state.js';

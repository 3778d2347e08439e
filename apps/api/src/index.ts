// placeholder: replaced by the apps/api implementation
export {};

// placeholder: replaced by the apps/worker implementation
export {};

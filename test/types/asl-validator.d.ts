declare module 'asl-validator' {
  interface AslValidation {
    isValid: boolean;
    errors: { message: string }[];
    errorsText(separator?: string): string;
  }
  function aslValidator(definition: unknown): AslValidation;
  export = aslValidator;
}

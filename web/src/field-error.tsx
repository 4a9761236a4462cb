// The sentence under a form that says what went wrong, announced as it appears.
export function FieldError(props: { error: string | null }) {
  if (!props.error) return null;
  return (
    <p class="field-error" role="alert">
      {props.error}
    </p>
  );
}

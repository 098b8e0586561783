// Progressive enhancement of the referral form (issue 11, RULES §6.1): when a weight
// changes, ask the server for the same "Preview weights" page the button gives and show its
// rescaled weights in place. The rule stays on the server; without JavaScript the button
// does the same.
const form = document.querySelector('form[data-weights-preview]')
if (form) {
  const live = document.getElementById('weights-live')
  let asked = 0
  const refresh = async () => {
    const mine = ++asked
    const body = new FormData(form)
    body.set('preview', 'yes')
    try {
      const reply = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin' })
      const page = new DOMParser().parseFromString(await reply.text(), 'text/html')
      if (mine !== asked) return
      const table = page.getElementById('weights-preview')
      const problem = page.querySelector('.govuk-error-summary__list')
      live.replaceChildren(...(table ? [table] : []))
      live.dataset.state = table ? 'shown' : 'problem'
      if (!table && problem) {
        const p = document.createElement('p')
        p.className = 'govuk-error-message'
        p.textContent = problem.textContent.trim()
        live.replaceChildren(p)
      }
    } catch (e) { /* the button still works */ }
  }
  for (const field of form.querySelectorAll('input#price_weight, input[id^="weights-"]')) {
    field.addEventListener('change', refresh)
  }
}

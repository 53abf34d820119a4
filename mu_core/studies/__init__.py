"""One study per chapter, named by the chapter's slug: the experiment the chapter runs, its
tables, figures and claim rules. Studies build on the rest of `mu_core`; nothing outside
`studies/` imports a study."""

# language: fr
Fonctionnalité: Étiquettes de facturation de la recette
  Tout traitement sur la plateforme de recette qui n'est lié ni à une demande d'évolution ni à une phase
  de construction est facturé à part, sous le libellé « environnement de recette ». Chaque requête
  porte donc l'identifiant de l'exécution et son motif ; le titulaire les enregistre sur chaque dépôt.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP
    Et un dossier "RECETTE-FACTURATION" à l'itération 1

  @reference
  Scénario: Les dépôts comptés par le harnais sont ceux que le titulaire a enregistrés
    Étant donné les compteurs de facturation de l'exécution sont relevés
    Quand l'ASP dépose la pièce "avis.pdf"
    Et l'ASP dépose les pièces "releve.pdf" et "rib.pdf"
    Alors le titulaire a enregistré chaque dépôt avec l'identifiant d'exécution et le motif de la recette
    Et les dépôts et les octets comptés par le harnais pendant le scénario sont ceux que le titulaire a enregistrés

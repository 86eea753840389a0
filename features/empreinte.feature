# language: fr
Fonctionnalité: Empreinte d'intégrité avec l'option SAE
  Avec l'option d'archivage à valeur probante (SAE), l'ASP fournit l'empreinte SHA-256 des documents
  déposés. Le titulaire l'accepte si elle concorde avec ce qu'il a reçu, la renvoie dans le retour,
  et refuse le dépôt sinon.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP
    Et un dossier "RECETTE-SAE" à l'itération 1

  Scénario: Une empreinte concordante est acceptée et renvoyée dans le retour
    Étant donné l'option SAE est demandée avec l'empreinte des documents déposés
    Quand l'ASP dépose la pièce "contrat-signe.pdf"
    Alors le titulaire accuse réception avec un identifiant unique de dépôt
    Et l'accusé de réception indique la taille reçue et l'empreinte des documents déposés
    Et l'ASP reçoit exactement un retour fidèle au dépôt
    Et le retour porte toutes les métadonnées du dépôt :
      | métadonnée    |
      | empreinte SAE |

  Scénario: Une empreinte qui ne concorde pas est refusée
    Étant donné l'option SAE est demandée avec une empreinte qui ne correspond pas aux documents déposés
    Quand l'ASP dépose la pièce "contrat-signe.pdf"
    Alors le titulaire répond 422
    Et l'erreur est décrite en problem+json avec le code "empreinte-non-concordante"
